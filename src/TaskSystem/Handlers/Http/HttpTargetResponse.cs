using System.Buffers;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace TaskSystem.Handlers.Http;

/// <summary>
/// What an http task keeps of a response: the status, the duration, the content type and length, and the first
/// 64 KiB of the body (as JSON when it is JSON, else as text). Only that much is ever read, whatever the target sends.
/// </summary>
internal sealed class HttpTargetResponse
{
    public const int BodyLimit = 64 * 1024;
    private const int ErrorBodyChars = 500;

    private HttpTargetResponse(HttpResponseMessage response, byte[] body, bool truncated)
    {
        Status = (int)response.StatusCode;
        Reason = response.ReasonPhrase;
        ContentType = response.Content.Headers.ContentType;
        ContentLength = response.Content.Headers.ContentLength;
        Body = body;
        Truncated = truncated;
    }

    public int Status { get; }

    public string? Reason { get; }

    public MediaTypeHeaderValue? ContentType { get; }

    public long? ContentLength { get; }

    public byte[] Body { get; }

    /// <summary>True when the body was longer than <see cref="BodyLimit"/>: the rest was never read.</summary>
    public bool Truncated { get; }

    /// <summary>Reads at most <see cref="BodyLimit"/> bytes of the body, and one more to know whether there was more.</summary>
    public static async Task<HttpTargetResponse> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BodyLimit + 1);
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var filled = 0;
                while (filled <= BodyLimit)
                {
                    var read = await stream.ReadAsync(buffer.AsMemory(filled, BodyLimit + 1 - filled), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    filled += read;
                }

                var truncated = filled > BodyLimit;
                return new HttpTargetResponse(response, buffer.AsSpan(0, Math.Min(filled, BodyLimit)).ToArray(), truncated);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The body as text, in the charset the response names (UTF-8 when it names none or an unknown one).</summary>
    public string Text()
    {
        var encoding = Encoding.UTF8;
        if (ContentType?.CharSet is { Length: > 0 } charset)
        {
            try
            {
                encoding = Encoding.GetEncoding(charset.Trim('"'));
            }
            catch (ArgumentException)
            {
                // An unknown charset: UTF-8 shows most text correctly, and a wrong byte as a replacement character.
            }
        }

        return encoding.GetString(Body);
    }

    /// <summary>The start of the body on one line, for an error message.</summary>
    public string TextStart()
    {
        var text = Text();
        var start = text.Length > ErrorBodyChars ? text[..ErrorBodyChars] + "…" : text;
        return string.Concat(start.Select(c => char.IsControl(c) ? ' ' : c)).Trim();
    }

    /// <summary>
    /// The task's result. The body is JSON when the content type says so and the whole of it parses within the depth
    /// limit; otherwise text. A result that would break TaskSystem:MaxPayloadBytes leaves the body out, so that a
    /// request that succeeded is never failed (and sent again) for its answer's size.
    /// </summary>
    public JsonElement ToResult(TimeSpan duration, Uri? redirectedTo, int maxResultBytes, int maxJsonDepth)
    {
        // Only the size can be over: a JSON body was parsed within one level less than the depth limit, else it is text.
        var json = Write(duration, redirectedTo, maxJsonDepth, omitBodyBecause: null);
        if (json.Length > maxResultBytes)
        {
            json = Write(duration, redirectedTo, maxJsonDepth,
                omitBodyBecause: $"the response body was left out: with it, the result is {json.Length} bytes; the limit is {maxResultBytes} (TaskSystem:MaxPayloadBytes).");
        }

        using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = JsonLimits.ReadBack.MaxDepth });
        return document.RootElement.Clone();
    }

    private byte[] Write(TimeSpan duration, Uri? redirectedTo, int maxJsonDepth, string? omitBodyBecause)
    {
        var buffer = new ArrayBufferWriter<byte>(Body.Length + 256);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { MaxDepth = JsonLimits.ReadBack.MaxDepth }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("status", Status);
            writer.WriteNumber("durationMs", Math.Round(duration.TotalMilliseconds, 1));
            if (redirectedTo is not null)
            {
                writer.WriteString("redirectedTo", redirectedTo.AbsoluteUri);
            }

            WriteStringOrNull(writer, "contentType", ContentType?.ToString());
            if (ContentLength is { } length)
            {
                writer.WriteNumber("contentLength", length);
            }
            else if (!Truncated)
            {
                writer.WriteNumber("contentLength", Body.Length);
            }
            else
            {
                writer.WriteNull("contentLength");
            }

            writer.WritePropertyName("body");
            if (omitBodyBecause is not null || Body.Length == 0)
            {
                writer.WriteNullValue();
            }
            else if (!Truncated && IsJson() && ParsesWithin(maxJsonDepth - 1))
            {
                writer.WriteRawValue(JsonBytes, skipInputValidation: true);
            }
            else
            {
                writer.WriteStringValue(Text());
            }

            writer.WriteBoolean("bodyTruncated", Truncated);
            if (omitBodyBecause is not null)
            {
                writer.WriteString("bodyOmitted", omitBodyBecause);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private bool IsJson() => ContentType?.MediaType is { } type
        && (type.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.EndsWith("+json", StringComparison.OrdinalIgnoreCase));

    /// <summary>The body without a UTF-8 byte order mark, which JSON text must not start with.</summary>
    private ReadOnlySpan<byte> JsonBytes => Body.AsSpan().StartsWith(Encoding.UTF8.Preamble) ? Body.AsSpan(Encoding.UTF8.Preamble.Length) : Body;

    private bool ParsesWithin(int maxDepth)
    {
        try
        {
            using var document = JsonDocument.Parse(JsonBytes.ToArray(), new JsonDocumentOptions { MaxDepth = Math.Max(1, maxDepth) });
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static void WriteStringOrNull(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }
}
