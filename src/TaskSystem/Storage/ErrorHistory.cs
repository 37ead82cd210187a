using System.Text.Json;

namespace TaskSystem.Storage;

/// <summary>
/// Reads the errors column: a JSON array of {attempt, error, at, stackTrace} with at in Unix milliseconds and
/// stackTrace absent or null when the attempt failed without an exception.
/// </summary>
internal static class ErrorHistory
{
    public static IReadOnlyList<TaskAttemptError> Parse(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return [];
        }

        using var document = JsonDocument.Parse(json);
        var errors = new List<TaskAttemptError>(document.RootElement.GetArrayLength());
        foreach (var item in document.RootElement.EnumerateArray())
        {
            errors.Add(new TaskAttemptError(
                item.GetProperty("attempt").GetInt32(),
                item.GetProperty("error").GetString() ?? "",
                DateTimeOffset.FromUnixTimeMilliseconds(item.GetProperty("at").GetInt64()),
                item.TryGetProperty("stackTrace", out var stack) && stack.ValueKind == JsonValueKind.String ? stack.GetString() : null));
        }

        return errors;
    }
}
