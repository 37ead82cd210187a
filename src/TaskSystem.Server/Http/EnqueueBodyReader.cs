using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace TaskSystem.Server.Http;

/// <summary>
/// Reads <c>POST /tasks</c> bodies whatever their content type (the seed's curl sends none that says JSON).
/// A JSON object with a <c>type</c> field is an envelope; any other object is the payload of a demo task.
/// </summary>
internal static class EnqueueBodyReader
{
    /// <summary>Room for the envelope's own fields around a payload of the largest size.</summary>
    private const int EnvelopeAllowance = 64 * 1024;

    private static readonly string[] EnvelopeFields = ["type", "payload", "queue", "priority", "maxAttempts", "timeoutSeconds", "runAt"];

    /// <summary>The largest request body the server reads: the largest payload plus room for the envelope.</summary>
    public static long MaxBodyBytes(TaskSystemOptions options) => (long)options.MaxPayloadBytes + EnvelopeAllowance;

    public static async Task<EnqueueBody> ReadAsync(HttpRequest request, TaskSystemOptions options, CancellationToken cancellationToken)
    {
        var maxBody = MaxBodyBytes(options);
        if (request.ContentLength > maxBody)
        {
            return EnqueueBody.TooLarge(maxBody);
        }

        var buffer = new ArrayBufferWriter<byte>(request.ContentLength is > 0 and < 65536 ? (int)request.ContentLength : 4096);
        while (true)
        {
            var memory = buffer.GetMemory(4096);
            var read = await request.Body.ReadAsync(memory, cancellationToken);
            if (read == 0)
            {
                break;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > maxBody)
            {
                return EnqueueBody.TooLarge(maxBody);
            }
        }

        if (buffer.WrittenCount == 0)
        {
            return EnqueueBody.Invalid("The request body is empty: send a JSON object, for example {\"type\": \"demo\", \"payload\": {}}.");
        }

        // JsonDocument checks the structure but not the UTF-8 inside strings: bad bytes would fail later, as a 500.
        if (!System.Text.Unicode.Utf8.IsValid(buffer.WrittenSpan))
        {
            return EnqueueBody.Invalid("The request body is not valid UTF-8 text: send JSON encoded as UTF-8.");
        }

        JsonDocument document;
        try
        {
            // One level more than the limit: an envelope holds the payload one level down; the payload's own depth
            // is then checked exactly, as for library callers.
            document = JsonDocument.Parse(buffer.WrittenMemory, new JsonDocumentOptions { MaxDepth = options.MaxJsonDepth + 1 });
        }
        catch (JsonException exception) when (exception.Message.Contains("depth", StringComparison.OrdinalIgnoreCase))
        {
            return EnqueueBody.Invalid($"The JSON is nested deeper than {options.MaxJsonDepth} levels (TaskSystem:MaxJsonDepth).");
        }
        catch (JsonException exception)
        {
            return EnqueueBody.Invalid($"The request body is not valid JSON: {exception.Message}");
        }

        var root = document.RootElement;
        if (buffer.WrittenSpan.IndexOf("\\u"u8) >= 0 && HasUnreadableString(root))
        {
            return EnqueueBody.Invalid("The JSON has a \\u escape that is not valid text (a lone UTF-16 surrogate such as \\ud800).");
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            return EnqueueBody.Invalid($"The request body must be a JSON object (got {root.ValueKind.ToString().ToLowerInvariant()}).");
        }

        return root.TryGetProperty("type", out _) ? ReadEnvelope(root) : EnqueueBody.Valid(new TaskRequest(Handlers.DemoHandler.Type) { Payload = root });
    }

    private static EnqueueBody ReadEnvelope(JsonElement root)
    {
        string? type = null;
        JsonElement? payload = null;
        var request = new TaskRequest("");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            if (!seen.Add(property.Name))
            {
                return EnqueueBody.Invalid($"The field '{property.Name}' appears twice.");
            }

            var value = property.Value;
            switch (property.Name)
            {
                case "type":
                    if (value.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(value.GetString()))
                    {
                        return EnqueueBody.Invalid("type must be a non-empty string: the name of a registered handler.", "type");
                    }

                    type = value.GetString();
                    break;
                case "payload":
                    if (value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
                    {
                        return EnqueueBody.Invalid($"payload must be a JSON object (got {value.ValueKind.ToString().ToLowerInvariant()}).", "payload");
                    }

                    payload = value.ValueKind == JsonValueKind.Null ? null : value;
                    break;
                case "queue":
                    if (value.ValueKind != JsonValueKind.String)
                    {
                        return EnqueueBody.Invalid("queue must be a string.", "queue");
                    }

                    request = request with { Queue = value.GetString() };
                    break;
                case "priority":
                    if (!TryInteger(value, out var priority))
                    {
                        return EnqueueBody.Invalid($"priority must be an integer (got {value.GetRawText()}).", "priority");
                    }

                    request = request with { Priority = priority };
                    break;
                case "maxAttempts":
                    if (!TryInteger(value, out var maxAttempts))
                    {
                        return EnqueueBody.Invalid($"maxAttempts must be an integer (got {value.GetRawText()}).", "maxAttempts");
                    }

                    request = request with { MaxAttempts = maxAttempts };
                    break;
                case "timeoutSeconds":
                    if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var seconds) || seconds <= 0 || seconds > TimeSpan.MaxValue.TotalSeconds / 2)
                    {
                        return EnqueueBody.Invalid($"timeoutSeconds must be a positive number (got {value.GetRawText()}).", "timeoutSeconds");
                    }

                    request = request with { Timeout = TimeSpan.FromSeconds(seconds) };
                    break;
                case "runAt":
                    if (value.ValueKind != JsonValueKind.String || !TryParseInstant(value.GetString()!, out var runAt))
                    {
                        return EnqueueBody.Invalid($"runAt must be an ISO 8601 date and time, for example 2030-01-01T12:00:00Z (got {value.GetRawText()}).", "runAt");
                    }

                    request = request with { RunAt = runAt };
                    break;
                default:
                    return EnqueueBody.Invalid(
                        $"Unknown field '{property.Name}' in a task envelope (a body with a 'type' field). " +
                        $"Allowed: {string.Join(", ", EnvelopeFields)}. Put the task's data under 'payload'.",
                        property.Name);
            }
        }

        return EnqueueBody.Valid(request with { Type = type!, Payload = payload });
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

    /// <summary>
    /// True when a name or string cannot be read as text (an escaped lone surrogate): the parser accepts it, but
    /// reading it throws, so it must be refused here rather than fail later as a 500. Only bodies with escapes pay.
    /// </summary>
    internal static bool HasUnreadableString(JsonElement element)
    {
        try
        {
            Read(element);
            return false;
        }
        catch (InvalidOperationException)
        {
            return true;
        }

        static void Read(JsonElement element)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var property in element.EnumerateObject())
                    {
                        _ = property.Name;
                        Read(property.Value);
                    }

                    break;
                case JsonValueKind.Array:
                    foreach (var item in element.EnumerateArray())
                    {
                        Read(item);
                    }

                    break;
                case JsonValueKind.String:
                    _ = element.GetString();
                    break;
            }
        }
    }

    private static bool TryInteger(JsonElement value, out int result)
    {
        result = 0;
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out result);
    }
}

/// <summary>What the body reader made of a request: a task request, or the problem to answer.</summary>
internal sealed record EnqueueBody(TaskRequest? Request, int Status, string? Detail, string? Field)
{
    public static EnqueueBody Valid(TaskRequest request) => new(request, StatusCodes.Status201Created, null, null);

    public static EnqueueBody Invalid(string detail, string? field = null) => new(null, StatusCodes.Status400BadRequest, detail, field);

    public static EnqueueBody TooLarge(long maxBody) => new(
        null, StatusCodes.Status413PayloadTooLarge, $"The request body is larger than {maxBody} bytes (TaskSystem:MaxPayloadBytes plus room for the envelope).", null);
}
