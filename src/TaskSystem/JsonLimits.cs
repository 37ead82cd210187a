using System.Text;
using System.Text.Json;

namespace TaskSystem;

/// <summary>
/// The size and nesting limits every stored JSON value respects (payloads on the way in, results on the way out),
/// so that whatever is stored can always be read back and served.
/// </summary>
internal static class JsonLimits
{
    /// <summary>Stored JSON is read back with this much room above the accepted depth: the API wraps it in a task.</summary>
    public const int ReadDepthAllowance = 16;

    /// <summary>Which limit <paramref name="json"/> breaks, or null.</summary>
    public static JsonLimitViolation? Check(string json, int maxBytes, int maxDepth)
    {
        var bytes = Encoding.UTF8.GetByteCount(json);
        if (bytes > maxBytes)
        {
            return new JsonLimitViolation($"it is {bytes} bytes; the limit is {maxBytes} (TaskSystem:MaxPayloadBytes).", TooLarge: true);
        }

        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json), new JsonReaderOptions { MaxDepth = maxDepth });
        try
        {
            while (reader.Read())
            {
                // Reading is the check: the reader throws past the depth.
            }
        }
        catch (JsonException)
        {
            return new JsonLimitViolation($"it is nested deeper than {maxDepth} levels (TaskSystem:MaxJsonDepth).", TooLarge: false);
        }

        return null;
    }

    /// <summary>Options to read stored JSON back, whatever depth was accepted when it was stored.</summary>
    public static readonly JsonSerializerOptions ReadBack = new() { MaxDepth = 256 + ReadDepthAllowance };

    /// <summary>
    /// Parses stored JSON into an element that outlives the document: no serializer involved, so it works with
    /// reflection-based serialization disabled (trimmed and native AOT apps).
    /// </summary>
    public static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = ReadBack.MaxDepth });
        return document.RootElement.Clone();
    }
}

/// <summary>A broken limit: what is wrong, and whether it is the size (HTTP 413) rather than the shape (HTTP 400).</summary>
internal sealed record JsonLimitViolation(string Message, bool TooLarge)
{
    public override string ToString() => Message;
}
