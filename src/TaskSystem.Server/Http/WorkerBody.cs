using System.Buffers;
using System.Text.Json;

namespace TaskSystem.Server.Http;

/// <summary>
/// The JSON object body of an external worker's request, read strictly: UTF-8 JSON, an object, no field twice, no
/// field the endpoint does not know (a misspelt <c>leaseToken</c> must not pass for a missing one), each of its type.
/// Anything else is a <see cref="TaskValidationException"/> naming the field: a 400 problem, never a 500.
/// </summary>
internal sealed class WorkerBody : IDisposable
{
    private readonly JsonDocument _document;
    private readonly Dictionary<string, JsonElement> _fields;

    private WorkerBody(JsonDocument document, Dictionary<string, JsonElement> fields)
    {
        _document = document;
        _fields = fields;
    }

    public static async Task<WorkerBody> ReadAsync(HttpRequest request, TaskSystemOptions options, string[] allowed, CancellationToken cancellationToken)
    {
        var maxBody = EnqueueBodyReader.MaxBodyBytes(options);
        var buffer = new ArrayBufferWriter<byte>(request.ContentLength is > 0 and < 65536 ? (int)request.ContentLength : 1024);
        while (true)
        {
            var read = await request.Body.ReadAsync(buffer.GetMemory(4096), cancellationToken);
            if (read == 0)
            {
                break;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > maxBody)
            {
                throw new TaskValidationException("The request body is larger than allowed (TaskSystem:MaxPayloadBytes plus room for the fields).") { IsTooLarge = true };
            }
        }

        if (buffer.WrittenCount == 0 || !System.Text.Unicode.Utf8.IsValid(buffer.WrittenSpan))
        {
            throw new TaskValidationException($"The request body must be a JSON object encoded as UTF-8, with the fields {string.Join(", ", allowed)}.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(buffer.WrittenMemory, new JsonDocumentOptions { MaxDepth = options.MaxJsonDepth + 1 });
        }
        catch (JsonException exception)
        {
            throw new TaskValidationException($"The request body is not valid JSON (or nested deeper than {options.MaxJsonDepth} levels): {exception.Message}");
        }

        try
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new TaskValidationException($"The request body must be a JSON object (got {root.ValueKind.ToString().ToLowerInvariant()}).");
            }

            if (buffer.WrittenSpan.IndexOf("\\u"u8) >= 0 && EnqueueBodyReader.HasUnreadableString(root))
            {
                throw new TaskValidationException("The JSON has a \\u escape that is not valid text (a lone UTF-16 surrogate such as \\ud800).");
            }

            var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                if (!allowed.Contains(property.Name, StringComparer.Ordinal))
                {
                    throw new TaskValidationException(property.Name, $"Unknown field '{property.Name}'. Allowed: {string.Join(", ", allowed)}.");
                }

                if (!fields.TryAdd(property.Name, property.Value))
                {
                    throw new TaskValidationException(property.Name, $"The field '{property.Name}' appears twice.");
                }
            }

            return new WorkerBody(document, fields);
        }
        catch
        {
            document.Dispose();
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

    /// <summary>Any JSON value as its text; null when absent or JSON null.</summary>
    public string? RawJson(string name) => Present(name, out var value) ? value.GetRawText() : null;

    private bool Present(string name, out JsonElement value) =>
        _fields.TryGetValue(name, out value) && value.ValueKind != JsonValueKind.Null;

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "…";

    public void Dispose() => _document.Dispose();
}
