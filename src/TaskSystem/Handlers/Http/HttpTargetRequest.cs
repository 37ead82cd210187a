using System.Globalization;
using System.Text;
using System.Text.Json;

namespace TaskSystem.Handlers.Http;

/// <summary>
/// An http task's payload, checked: <c>{"url", "method", "headers", "body", "timeoutSeconds"}</c>. The same rules run
/// at enqueue (a 400 before anything is stored) and before each attempt (the settings may have changed since).
/// </summary>
/// <param name="Url">The absolute URL, allowed by the settings.</param>
/// <param name="Method">The method, upper case.</param>
/// <param name="Headers">The caller's headers, checked: none of those only the client may set.</param>
/// <param name="Body">The exact body bytes, or null for none.</param>
/// <param name="BodyIsJson">True when the body is JSON (its default content type is then <c>application/json</c>).</param>
/// <param name="Timeout">How long the whole request may take (the attempt's own timeout also applies).</param>
internal sealed record HttpTargetRequest(
    Uri Url,
    string Method,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    byte[]? Body,
    bool BodyIsJson,
    TimeSpan Timeout)
{
    public const string Fields = "url, method, headers, body, timeoutSeconds";
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(24);
    public const int MaxHeaders = 64;
    public const int MaxHeaderValueLength = 8 * 1024;

    private static readonly string[] Methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

    /// <summary>
    /// Headers a caller may not set: those that describe the connection or the message framing (the client sets them,
    /// and a wrong one could smuggle a second request), and those TaskSystem sets itself.
    /// </summary>
    private static readonly HashSet<string> Forbidden = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
        "Proxy-Authorization", "TE", "Trailer", "Upgrade", "Expect", "Idempotency-Key",
    };

    /// <summary>The headers that describe the body (they go on the content, and only with a body).</summary>
    public static readonly HashSet<string> ContentHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Allow", "Content-Disposition", "Content-Encoding", "Content-Language", "Content-Location", "Content-MD5",
        "Content-Range", "Content-Type", "Expires", "Last-Modified",
    };

    /// <summary>Reads and checks a payload; returns null and a message that names the field when it is wrong.</summary>
    public static HttpTargetRequest? Parse(JsonElement payload, TargetAllowList allowList, int maxBodyBytes, out string? error)
    {
        error = Check(payload, allowList, maxBodyBytes, out var request);
        return request;
    }

    private static string? Check(JsonElement payload, TargetAllowList allowList, int maxBodyBytes, out HttpTargetRequest? request)
    {
        request = null;
        if (payload.ValueKind != JsonValueKind.Object)
        {
            return "the payload of an http task must be a JSON object with url (and method, headers, body, timeoutSeconds).";
        }

        foreach (var property in payload.EnumerateObject())
        {
            if (property.Name is not ("url" or "method" or "headers" or "body" or "timeoutSeconds"))
            {
                return $"payload.{property.Name} is not a field of an http task; its fields are {Fields}.";
            }
        }

        if (!payload.TryGetProperty("url", out var urlValue) || urlValue.ValueKind != JsonValueKind.String || urlValue.GetString() is not { Length: > 0 } urlText)
        {
            return "payload.url is required: the absolute http or https URL to call.";
        }

        if (!Uri.TryCreate(urlText, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            return $"payload.url must be an absolute http or https URL (got '{urlText}').";
        }

        if (allowList.Check("payload.url", url) is { } refused)
        {
            return refused;
        }

        var method = "POST";
        if (payload.TryGetProperty("method", out var methodValue))
        {
            var text = methodValue.ValueKind == JsonValueKind.String ? methodValue.GetString()!.ToUpperInvariant() : null;
            if (text is null || !Methods.Contains(text))
            {
                return $"payload.method must be one of {string.Join(", ", Methods)} (got {methodValue.GetRawText()}).";
            }

            method = text;
        }

        var (body, bodyIsJson, bodyError) = ReadBody(payload, method, maxBodyBytes);
        if (bodyError is not null)
        {
            return bodyError;
        }

        var (headers, headersError) = ReadHeaders(payload, hasBody: body is not null);
        if (headersError is not null)
        {
            return headersError;
        }

        var timeout = DefaultTimeout;
        if (payload.TryGetProperty("timeoutSeconds", out var timeoutValue))
        {
            if (timeoutValue.ValueKind != JsonValueKind.Number || !timeoutValue.TryGetDouble(out var seconds)
                || seconds < 0.001 || seconds > MaxTimeout.TotalSeconds)
            {
                return $"payload.timeoutSeconds must be a number between 0.001 and {MaxTimeout.TotalSeconds} (got {timeoutValue.GetRawText()}).";
            }

            timeout = TimeSpan.FromSeconds(seconds);
        }

        request = new HttpTargetRequest(url, method, headers, body, bodyIsJson, timeout);
        return null;
    }

    private static (byte[]? Body, bool IsJson, string? Error) ReadBody(JsonElement payload, string method, int maxBodyBytes)
    {
        if (!payload.TryGetProperty("body", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return (null, false, null);
        }

        if (method is "GET" or "HEAD")
        {
            return (null, false, $"payload.body cannot be sent with {method}: use POST, PUT, PATCH or DELETE, or leave the body out.");
        }

        // A string is sent as its text; anything else as the exact JSON the task was given.
        var isJson = value.ValueKind != JsonValueKind.String;
        var bytes = isJson ? Encoding.UTF8.GetBytes(value.GetRawText()) : Encoding.UTF8.GetBytes(value.GetString()!);
        return bytes.Length > maxBodyBytes
            ? (null, false, $"payload.body is {bytes.Length} bytes; the limit is {maxBodyBytes} ({HttpTargetOptions.SectionName}:MaxRequestBodyBytes).")
            : (bytes, isJson, null);
    }

    private static (IReadOnlyList<KeyValuePair<string, string>> Headers, string? Error) ReadHeaders(JsonElement payload, bool hasBody)
    {
        if (!payload.TryGetProperty("headers", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return ([], null);
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            return ([], $"payload.headers must be an object of header names to string values (got {value.GetRawText()}).");
        }

        var headers = new List<KeyValuePair<string, string>>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in value.EnumerateObject())
        {
            var name = header.Name;
            var field = $"payload.headers.{name}";
            if (!IsToken(name))
            {
                return ([], $"payload.headers has an invalid header name '{name}': letters, digits and !#$%&'*+-.^_`|~ only.");
            }

            if (Forbidden.Contains(name) || name.StartsWith("TaskSystem-", StringComparison.OrdinalIgnoreCase))
            {
                return ([], $"{field} cannot be set by a task: the client sets it (Host, Content-Length, connection headers) or TaskSystem does (TaskSystem-*, Idempotency-Key).");
            }

            if (!names.Add(name))
            {
                return ([], $"{field} is given twice.");
            }

            if (header.Value.ValueKind != JsonValueKind.String)
            {
                return ([], $"{field} must be a string (got {header.Value.GetRawText()}).");
            }

            var text = header.Value.GetString()!;
            if (text.Length > MaxHeaderValueLength || text.Any(c => c is '\r' or '\n' or '\0' || c > '\u00ff'))
            {
                return ([], $"{field} must be at most {MaxHeaderValueLength} characters of Latin-1 text without line breaks.");
            }

            if (ContentHeaders.Contains(name) && !hasBody)
            {
                return ([], $"{field} describes a body, and the task has no payload.body.");
            }

            headers.Add(new(name, text));
        }

        return headers.Count > MaxHeaders
            ? ([], $"payload.headers has {headers.Count} headers; the limit is {MaxHeaders}.")
            : (headers, null);
    }

    /// <summary>An HTTP token (RFC 9110 §5.6.2): what a header name may be made of.</summary>
    private static bool IsToken(string name) =>
        name.Length is > 0 and <= 256 && name.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal));

    /// <summary>For the log and errors: the method and URL.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Method} {Url.AbsoluteUri}");
}
