using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TaskSystem.ExternalWorkers;

namespace TaskSystem.AspNetCore.Http;

/// <summary>
/// The JSON object body of an external worker's request, read strictly: UTF-8 JSON, an object, no field twice, no
/// field the endpoint does not know (a misspelt <c>leaseToken</c> must not pass for a missing one), each of its type.
/// Anything else is a <see cref="TaskValidationException"/> naming the field: a 400 problem, never a 500.
/// </summary>
internal sealed class WorkerBody : IDisposable
{
    private readonly JsonRequestBody _body;
    private readonly Dictionary<string, JsonElement> _fields;

    private WorkerBody(JsonRequestBody body, Dictionary<string, JsonElement> fields)
    {
        _body = body;
        _fields = fields;
    }

    /// <summary>Reads the body as the task API does (bounded, UTF-8, no name twice), then checks its fields.</summary>
    /// <exception cref="TaskValidationException">The body or one of its fields is refused; the exception says why.</exception>
    public static async Task<WorkerBody> ReadAsync(HttpRequest request, TaskSystemOptions options, string[] allowed, CancellationToken cancellationToken)
    {
        // A result sits one level down in the body, as a payload does in an enqueue.
        var body = await JsonRequestBody.ReadAsync(request, TasksApi.MaxBodyBytes(options), options.MaxJsonDepth, envelopeLevels: 1, cancellationToken);
        try
        {
            if (body.Problem is { } problem)
            {
                throw new TaskValidationException(problem.Detail) { IsTooLarge = problem.Status == StatusCodes.Status413PayloadTooLarge };
            }

            var root = body.Root;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new TaskValidationException(
                    $"The request body must be a JSON object with the fields {string.Join(", ", allowed)} (got {root.ValueKind.ToString().ToLowerInvariant()}).");
            }

            var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                if (!allowed.Contains(property.Name, StringComparer.Ordinal))
                {
                    throw new TaskValidationException(property.Name, $"Unknown field '{property.Name}'. Allowed: {string.Join(", ", allowed)}.");
                }

                fields.Add(property.Name, property.Value);
            }

            return new WorkerBody(body, fields);
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }

    /// <summary>A string field; null when absent (or JSON null) and not required.</summary>
    public string? String(string name, bool required = false)
    {
        if (!Present(name, out var value))
        {
            return required ? throw new TaskValidationException(name, $"{name} is required.") : null;
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw new TaskValidationException(name, $"{name} must be a string (got {value.GetRawText()}).");
    }

    /// <summary>A list of strings; null when absent.</summary>
    public IReadOnlyList<string>? Strings(string name, bool required = false)
    {
        if (!Present(name, out var value))
        {
            return required ? throw new TaskValidationException(name, $"{name} is required: a list of names.") : null;
        }

        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(item => item.ValueKind != JsonValueKind.String))
        {
            throw new TaskValidationException(name, $"{name} must be a list of strings (got {Shorten(value.GetRawText())}).");
        }

        return [.. value.EnumerateArray().Select(item => item.GetString()!)];
    }

    /// <summary>An integer field; null when absent.</summary>
    public int? Integer(string name)
    {
        if (!Present(name, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number)
            ? number
            : throw new TaskValidationException(name, $"{name} must be an integer (got {Shorten(value.GetRawText())}).");
    }

    /// <summary>A number of seconds; null when absent. Bounds are the caller's to check.</summary>
    public TimeSpan? Seconds(string name)
    {
        if (!Present(name, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var seconds) && double.IsFinite(seconds) && Math.Abs(seconds) < 1e9
            ? TimeSpan.FromSeconds(seconds)
            : throw new TaskValidationException(name, $"{name} must be a number of seconds (got {Shorten(value.GetRawText())}).");
    }

    /// <summary>A boolean field; <paramref name="absent"/> when absent.</summary>
    public bool Boolean(string name, bool absent)
    {
        if (!Present(name, out var value))
        {
            return absent;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new TaskValidationException(name, $"{name} must be true or false (got {Shorten(value.GetRawText())})."),
        };
    }

    /// <summary>
    /// Progress: <c>{"percent": 0..100, "message": "..."}</c> (message optional, cut to
    /// <see cref="TaskProgress.MaxMessageLength"/> characters), or a bare percentage; null when absent.
    /// </summary>
    public WorkerProgress? Progress(string name)
    {
        if (!Present(name, out var value))
        {
            return null;
        }

        const string Shape = "must be {\"percent\": a number from 0 to 100, \"message\": a string or null} or a bare percentage";
        if (value.ValueKind == JsonValueKind.Number)
        {
            return new WorkerProgress(Percent(name, value, Shape), null);
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new TaskValidationException(name, $"{name} {Shape} (got {Shorten(value.GetRawText())}).");
        }

        double? percent = null;
        string? message = null;
        foreach (var property in value.EnumerateObject())
        {
            switch (property.Name)
            {
                case "percent":
                    percent = Percent($"{name}.percent", property.Value, Shape);
                    break;
                case "message" when property.Value.ValueKind is JsonValueKind.String or JsonValueKind.Null:
                    message = property.Value.GetString();
                    break;
                default:
                    throw new TaskValidationException($"{name}.{property.Name}", $"{name} {Shape} (got {Shorten(value.GetRawText())}).");
            }
        }

        return percent is { } known
            ? new WorkerProgress(known, message)
            : throw new TaskValidationException($"{name}.percent", $"{name} {Shape}: percent is missing.");
    }

    private static double Percent(string field, JsonElement value, string shape) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var percent) && percent >= 0 && percent <= 100
            ? percent
            : throw new TaskValidationException(field, $"{field.Split('.')[0]} {shape} (got {Shorten(value.GetRawText())}).");

    /// <summary>Any JSON value as its text; null when absent or JSON null.</summary>
    public string? RawJson(string name) => Present(name, out var value) ? value.GetRawText() : null;

    private bool Present(string name, out JsonElement value) =>
        _fields.TryGetValue(name, out value) && value.ValueKind != JsonValueKind.Null;

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "…";

    public void Dispose() => _body.Dispose();
}
