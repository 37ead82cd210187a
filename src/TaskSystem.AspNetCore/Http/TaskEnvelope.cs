using System.Globalization;
using System.Text.Json;

namespace TaskSystem.AspNetCore.Http;

/// <summary>
/// The task envelope of <c>POST /tasks</c>, parsed from JSON without HTTP: <c>{"type", "payload", "queue", "priority",
/// "maxAttempts", "timeoutSeconds", "runAt", "key", "after", "afterPolicy"}</c>. A JSON object without <c>type</c> is the payload of a task of the
/// default type, when the API has one (the server's <c>demo</c>, as in the seed). Each wrong field is named; the
/// values' ranges are checked later, with the library's own rules, by the task manager.
/// </summary>
internal static class TaskEnvelope
{
    /// <summary>The envelope's fields, in the order the docs list them.</summary>
    public static readonly string[] Fields = ["type", "payload", "queue", "priority", "maxAttempts", "timeoutSeconds", "runAt", "key", "after", "afterPolicy"];

    /// <summary>The request <paramref name="root"/> describes, or what is wrong with it.</summary>
    public static (TaskRequest? Request, RequestProblem? Problem) Parse(JsonElement root, string? defaultType)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return Invalid($"The request body must be a JSON object (got {root.ValueKind.ToString().ToLowerInvariant()}).");
        }

        if (root.TryGetProperty("type", out _))
        {
            return ParseEnvelope(root);
        }

        return defaultType is null
            ? Invalid("type is required: the name of a registered handler, for example {\"type\": \"send-email\", \"payload\": {}}.", "type")
            : (new TaskRequest(defaultType) { Payload = root }, null);
    }

    private static (TaskRequest? Request, RequestProblem? Problem) ParseEnvelope(JsonElement root)
    {
        string? type = null;
        JsonElement? payload = null;
        var request = new TaskRequest("");
        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            switch (property.Name)
            {
                case "type":
                    if (value.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(value.GetString()))
                    {
                        return Invalid("type must be a non-empty string: the name of a registered handler.", "type");
                    }

                    type = value.GetString();
                    break;
                case "payload":
                    if (value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
                    {
                        return Invalid($"payload must be a JSON object (got {value.ValueKind.ToString().ToLowerInvariant()}).", "payload");
                    }

                    payload = value.ValueKind == JsonValueKind.Null ? null : value;
                    break;
                case "queue":
                    if (value.ValueKind != JsonValueKind.String)
                    {
                        return Invalid("queue must be a string.", "queue");
                    }

                    request = request with { Queue = value.GetString() };
                    break;
                case "priority":
                    if (!TryInteger(value, out var priority))
                    {
                        return Invalid($"priority must be an integer (got {value.GetRawText()}).", "priority");
                    }

                    request = request with { Priority = priority };
                    break;
                case "maxAttempts":
                    if (!TryInteger(value, out var maxAttempts))
                    {
                        return Invalid($"maxAttempts must be an integer (got {value.GetRawText()}).", "maxAttempts");
                    }

                    request = request with { MaxAttempts = maxAttempts };
                    break;
                case "timeoutSeconds":
                    if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var seconds) || seconds <= 0 || seconds > TimeSpan.MaxValue.TotalSeconds / 2)
                    {
                        return Invalid($"timeoutSeconds must be a positive number (got {value.GetRawText()}).", "timeoutSeconds");
                    }

                    request = request with { Timeout = TimeSpan.FromSeconds(seconds) };
                    break;
                case "runAt":
                    if (value.ValueKind != JsonValueKind.String || !TryParseInstant(value.GetString()!, out var runAt))
                    {
                        return Invalid($"runAt must be an ISO 8601 date and time, for example 2030-01-01T12:00:00Z (got {value.GetRawText()}).", "runAt");
                    }

                    request = request with { RunAt = runAt };
                    break;
                case "key":
                    if (value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                    {
                        return Invalid($"key must be a string: an idempotency key (got {value.GetRawText()}).", "key");
                    }

                    request = request with { Key = value.GetString() };
                    break;
                case "after":
                    if (!TryIds(value, out var after))
                    {
                        return Invalid($"after must be an array of task ids, for example [12, 13] (got {Shorten(value.GetRawText())}).", "after");
                    }

                    request = request with { After = after };
                    break;
                case "afterPolicy":
                    if (value.ValueKind != JsonValueKind.String || !AfterPolicies.TryParse(value.GetString(), out var policy))
                    {
                        return Invalid($"afterPolicy must be \"allSucceeded\" or \"anyOutcome\" (got {Shorten(value.GetRawText())}).", "afterPolicy");
                    }

                    request = request with { AfterPolicy = policy };
                    break;
                default:
                    return Invalid(
                        $"Unknown field '{property.Name}' in a task envelope (a body with a 'type' field). " +
                        $"Allowed: {string.Join(", ", Fields)}. Put the task's data under 'payload'.",
                        property.Name);
            }
        }

        return (request with { Type = type!, Payload = payload }, null);
    }

    /// <summary>ISO 8601 with a date, a time and an offset (or Z): an instant, never a local time open to guessing.</summary>
    private static bool TryParseInstant(string text, out DateTimeOffset instant)
    {
        instant = default;
        var timeStart = text.IndexOf('T', StringComparison.OrdinalIgnoreCase);
        var hasOffset = timeStart > 0
            && (text.EndsWith('Z') || text.EndsWith('z') || text.IndexOfAny(['+', '-'], timeStart) > timeStart);
        return hasOffset && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out instant);
    }

    /// <summary>A JSON array of positive 64-bit integers (null for none); range and count are the library's checks.</summary>
    private static bool TryIds(JsonElement value, out long[]? ids)
    {
        ids = null;
        if (value.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        var list = new List<long>(value.GetArrayLength());
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var id))
            {
                return false;
            }

            list.Add(id);
        }

        ids = [.. list];
        return true;
    }

    private static string Shorten(string text) => text.Length <= 100 ? text : text[..100] + "...";

    private static bool TryInteger(JsonElement value, out int result)
    {
        result = 0;
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out result);
    }

    private static (TaskRequest? Request, RequestProblem? Problem) Invalid(string detail, string? field = null) => (null, RequestProblem.Invalid(detail, field));
}
