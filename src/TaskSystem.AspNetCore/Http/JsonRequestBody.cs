using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace TaskSystem.AspNetCore.Http;

/// <summary>
/// A request body read as one JSON document, whatever its content type (the seed's curl sends none that says JSON),
/// bounded in bytes and depth, refused with a message that says what was wrong. The document holds the elements that
/// a parsed request points into, so the caller disposes it once the request is stored.
/// </summary>
internal sealed class JsonRequestBody : IDisposable
{
    private readonly JsonDocument? _document;

    private JsonRequestBody(JsonDocument? document, RequestProblem? problem)
    {
        _document = document;
        Problem = problem;
    }

    /// <summary>The document's root; only when <see cref="Problem"/> is null.</summary>
    public JsonElement Root => _document?.RootElement ?? throw new InvalidOperationException("The body was refused: " + Problem?.Detail);

    /// <summary>Why the body was refused, or null.</summary>
    public RequestProblem? Problem { get; }

    public void Dispose() => _document?.Dispose();

    /// <summary>
    /// Reads at most <paramref name="maxBytes"/> and parses it. Payloads may nest <paramref name="maxPayloadDepth"/>
    /// levels and sit <paramref name="envelopeLevels"/> levels down in the body; the payload's own depth is checked
    /// exactly later, as for library callers.
    /// </summary>
    public static async Task<JsonRequestBody> ReadAsync(
        HttpRequest request, long maxBytes, int maxPayloadDepth, int envelopeLevels, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            return Refused(TooLarge(maxBytes));
        }

        var buffer = new ArrayBufferWriter<byte>(request.ContentLength is > 0 and < 65536 ? (int)request.ContentLength : 4096);
        while (true)
        {
            var read = await request.Body.ReadAsync(buffer.GetMemory(4096), cancellationToken);
            if (read == 0)
            {
                break;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > maxBytes)
            {
                return Refused(TooLarge(maxBytes));
            }
        }

        return Parse(buffer.WrittenMemory, maxPayloadDepth, envelopeLevels);
    }

    /// <summary>Parses a body already in memory (the HTTP reader's second half, and tests that need no HTTP).</summary>
    public static JsonRequestBody Parse(ReadOnlyMemory<byte> body, int maxPayloadDepth, int envelopeLevels)
    {
        var maxDepth = maxPayloadDepth + envelopeLevels;
        if (body.IsEmpty)
        {
            return Refused(RequestProblem.Invalid("The request body is empty: send a JSON object, for example {\"type\": \"demo\", \"payload\": {}}."));
        }

        // JsonDocument checks the structure but not the UTF-8 inside strings: bad bytes would fail later, as a 500.
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            return Refused(RequestProblem.Invalid("The request body is not valid UTF-8 text: send JSON encoded as UTF-8."));
        }

        JsonDocument document;
        try
        {
            // Duplicate names are refused at every level: which of two values counts is a guess no reader should make.
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = maxDepth, AllowDuplicateProperties = false });
        }
        catch (JsonException exception)
        {
            return Refused(RequestProblem.Invalid(Classify(body.Span, maxDepth, maxPayloadDepth, exception)));
        }
        catch (InvalidOperationException)
        {
            // Comparing names for duplicates reads them: a name with an escaped lone surrogate cannot be read.
            return Refused(UnreadableEscape);
        }

        if (body.Span.IndexOf("\\u"u8) >= 0 && HasUnreadableString(document.RootElement))
        {
            document.Dispose();
            return Refused(UnreadableEscape);
        }

        return new JsonRequestBody(document, null);
    }

    private static readonly RequestProblem UnreadableEscape =
        RequestProblem.Invalid("The JSON has a \\u escape that is not valid text (a lone UTF-16 surrogate such as \\ud800).");

    private static JsonRequestBody Refused(RequestProblem problem) => new(null, problem);

    private static RequestProblem TooLarge(long maxBytes) => new(
        StatusCodes.Status413PayloadTooLarge, $"The request body is larger than {maxBytes} bytes (TaskSystem:MaxPayloadBytes plus room for the envelope).");

    /// <summary>
    /// Says why the strict parse failed without reading the exception's text: a second, lenient pass over the tokens
    /// finds a syntax error (reported with the parser's position), else too deep a nesting; what is left is a name
    /// given twice, the one rule only the strict parse applies.
    /// </summary>
    private static string Classify(ReadOnlySpan<byte> body, int maxDepth, int maxPayloadDepth, JsonException strictError)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = int.MaxValue / 2 });
        var nesting = 0;
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    nesting = Math.Max(nesting, reader.CurrentDepth + 1);
                }
            }
        }
        catch (JsonException syntax)
        {
            return nesting > maxDepth ? DepthMessage(maxPayloadDepth) : $"The request body is not valid JSON: {syntax.Message}";
        }

        return nesting > maxDepth
            ? DepthMessage(maxPayloadDepth)
            : $"A property name appears twice in one object: {strictError.Message}";
    }

    private static string DepthMessage(int maxPayloadDepth) =>
        $"The JSON is nested deeper than {maxPayloadDepth} levels (TaskSystem:MaxJsonDepth).";

    /// <summary>
    /// True when a name or string cannot be read as text (an escaped lone surrogate): the parser accepts it, but
    /// reading it throws, so it must be refused here rather than fail later as a 500. Only bodies with escapes pay.
    /// </summary>
    private static bool HasUnreadableString(JsonElement element)
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
}
