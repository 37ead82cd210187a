using System.Globalization;
using System.Text;
using CsCheck;

namespace TaskSystem.Server.Tests.Fuzz;

/// <summary>How a request's body is framed on the wire, including the wrong ways.</summary>
public enum Framing
{
    ContentLength,
    Chunked,
    BadChunk,
    BothLengthAndChunked,
    LengthTooShort,
}

/// <summary>One HTTP/1.1 request, well formed or not, as raw bytes for a socket.</summary>
public sealed record FuzzRequest(string Method, string Target, IReadOnlyList<(string Name, string Value)> Headers, byte[] Body, Framing Framing, bool Garbage)
{
    public const string Key = "fuzz-key-0123456789abcdef";

    private static readonly Gen<string> Methods = Gen.Frequency(
        (30, Gen.OneOf("GET", "POST", "DELETE")),
        (6, Gen.OneOf("PUT", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT")),
        (2, Gen.Char['A', 'Z'].Array[1, 12].Select(chars => new string(chars))),
        (1, Gen.OneOf("get", "Post", "M-SEARCH", "PROPFIND", "FOO_BAR")));

    private static readonly Gen<string> Id = Gen.Frequency(
        (10, Gen.Long[1, 400].Select(id => id.ToString(CultureInfo.InvariantCulture))),
        (2, Gen.OneOf("0", "-1", "+1", "1.5", "1e3", "abc", "99999999999999999999999", "9223372036854775807", "%31", "1%00", "%2e%2e", "")));

    private static readonly Gen<string> Path = Gen.Frequency(
        (12, Gen.OneOf("/tasks", "/tasks/")),
        (10, Id.Select(id => "/tasks/" + id)),
        (6, Id.Select(id => $"/tasks/{id}/retry")),
        (3, Gen.Select(Id, Gen.OneOf("heartbeat", "complete", "fail"), (id, action) => $"/tasks/{id}/{action}")),
        (2, Gen.OneOf("/workers/claim", "/workers/claim/", "/workers", "/workers/CLAIM")),
        (3, Gen.OneOf("/health/live", "/health/ready", "/metrics", "/", "/dashboard/", "/dashboard/api/stream", "/dashboard/api/stats")),
        (3, Gen.OneOf("//tasks", "/tasks//1", "/TASKS", "/tasks/1/retry/again", "/../tasks", "/%2e%2e/%2e%2e/etc/passwd", "/tasks%2F1", "/tasks/%00",
            "/tasks/%ZZ", "/tasks/%C3%A9", "/tasks/\u00e9", "*", "http://example.com/tasks", "/tasks;param", "/tasks#fragment")),
        (2, Gen.Char[' ', '~'].Array[0, 40].Select(chars => "/" + Uri.EscapeDataString(new string(chars)))),
        (1, Gen.Const(() => "/tasks/" + new string('9', 5000))));

    private static readonly Gen<string> QueryValue = Gen.Frequency(
        (4, Gen.OneOf("all", "queued,running", "running", "failed", "succeeded,cancelled", "nope", "", "1", "0", "-5", "1000", "1001", "abc", "%ZZ", "%00", "%E2%82%AC", "demo", "default")),
        (1, Gen.Long.Select(n => n.ToString(CultureInfo.InvariantCulture))),
        (1, Gen.Char['!', '~'].Array[0, 30].Select(chars => Uri.EscapeDataString(new string(chars)))));

    private static readonly Gen<string> Query = Gen.Frequency(
        (6, Gen.Const("")),
        (4, Gen.Select(Gen.OneOf("state", "limit", "cursor", "type", "queue", "x", "state[]", ""), QueryValue, (k, v) => (k, v))
            .Array[1, 5]
            .Select(pairs => "?" + string.Join("&", pairs.Select(p => p.k + "=" + p.v)))),
        (1, Gen.OneOf("?", "?&&&", "?=", "?limit", "?limit=1&limit=2", "?state=" + new string('a', 3000))));

    private static readonly Gen<string> Targets = Gen.Select(Path, Query, (path, query) => path == "*" ? path : path + query);

    private static readonly Gen<string?> Authorization = Gen.Frequency(
        (12, Gen.Const<string?>("Bearer " + Key)),
        (3, Gen.Const((string?)null)),
        (3, Gen.OneOf<string?>("Bearer wrong-key-0123456789abcdef", "Bearer ", "Bearer", "Basic " + Key, "bearer " + Key, "Bearer  " + Key + "  ", "Bearer " + Key + "x", "Token " + Key)),
        (1, Gen.Char['!', '~'].Array[0, 200].Select(chars => (string?)("Bearer " + new string(chars)))),
        (1, Gen.Const<string?>(() => "Bearer " + new string('k', 20_000))));

    private static readonly Gen<(string, string)> RandomHeader = Gen.Select(
        Gen.Char["abcdefghijklmnopqrstuvwxyz-_0123456789"].Array[1, 20].Select(chars => "X-" + new string(chars)),
        Gen.Char[' ', '~'].Array[0, 80].Select(chars => new string(chars).Trim()),
        (name, value) => (name, value));

    private static readonly Gen<IReadOnlyList<(string, string)>> HeaderLists = Gen.Select(
        Authorization,
        Gen.Frequency(
            (6, Gen.Const((string?)null)),
            (6, Gen.OneOf<string?>("application/json", "text/plain", "application/x-www-form-urlencoded", "application/json; charset=utf-8",
                "multipart/form-data; boundary=x", "application/problem+json", "*/*", "garbage", ""))),
        RandomHeader.Array[0, 4],
        Gen.Int[0, 30],
        (authorization, contentType, extra, dice) =>
        {
            var headers = new List<(string, string)>();
            if (dice != 0)
            {
                headers.Add(("Host", "localhost"));
            }

            if (authorization is not null)
            {
                headers.Add(("Authorization", authorization));
                if (dice == 1)
                {
                    headers.Add(("Authorization", "Bearer " + Key));
                }
            }

            if (contentType is not null)
            {
                headers.Add(("Content-Type", contentType));
            }

            if (dice == 2)
            {
                headers.Add(("X-Huge", new string('h', 40_000)));
            }

            if (dice == 3)
            {
                headers.Add(("traceparent", "00-not-a-trace-01"));
            }

            headers.AddRange(extra);
            return (IReadOnlyList<(string, string)>)headers;
        });

    private static readonly Gen<string> Scalar = Gen.Frequency(
        (3, Gen.Int[0, 50].Select(n => n.ToString(CultureInfo.InvariantCulture))),
        (1, Gen.OneOf("null", "true", "false", "-1", "1e308", "1e999", "-0", "0.1", "12345678901234567890", "\"\"", "\"x\"", "\"\\u0000\"", "\"\\ud800\"", "\"2030-01-01T00:00:00Z\"")),
        (1, Gen.Char[' ', '~'].Array[0, 20].Select(chars => System.Text.Json.JsonSerializer.Serialize(new string(chars)))));

    private static readonly Gen<string> JsonValue = Gen.Recursive<string>((depth, json) => depth > 4
        ? Scalar
        : Gen.Frequency(
            (6, Scalar),
            (1, json.Array[0, 4].Select(items => "[" + string.Join(",", items) + "]")),
            (1, Gen.Select(Gen.OneOf("a", "durationMs", "failAttempts", "type", "\u00e9", ""), json, (k, v) => $"\"{k}\":{v}").Array[0, 4]
                .Select(members => "{" + string.Join(",", members) + "}"))));

    private static readonly Gen<string> Envelope = Gen.Select(
        Gen.Frequency((8, Gen.Const("\"demo\"")), (2, JsonValue), (1, Gen.OneOf("\"nope\"", "\"\"", "\"DEMO\""))),
        Gen.Frequency((6, Gen.Int[0, 20].Select(ms => $"{{\"durationMs\":{ms}}}")), (2, Gen.Const("{}")), (2, JsonValue)),
        Gen.Frequency((5, Gen.Const((string?)null)), (2, Gen.OneOf<string?>("\"default\"", "\"mail\"", "\"bad queue\"", "\"\"", "1", new string('q', 120)))),
        Gen.Frequency((5, Gen.Const((string?)null)), (2, JsonValue.Select(v => (string?)v))),
        Gen.Frequency((6, Gen.Const((string?)null)), (1, Gen.OneOf<string?>("\"runAt\":\"2099-01-01T00:00:00Z\"", "\"runAt\":\"yesterday\"", "\"maxAttempts\":0", "\"timeoutSeconds\":0.001", "\"extra\":1", "\"type\":\"demo\""))),
        (type, payload, queue, priority, extra) =>
        {
            var members = new List<string> { "\"type\":" + type, "\"payload\":" + payload };
            if (queue is not null)
            {
                members.Add("\"queue\":" + queue);
            }

            if (priority is not null)
            {
                members.Add("\"priority\":" + priority);
            }

            if (extra is not null)
            {
                members.Add(extra);
            }

            return "{" + string.Join(",", members) + "}";
        });

    /// <summary>Bodies that mostly make a task: the seed's bare payload or an envelope with random fields.</summary>
    private static readonly Gen<byte[]> EnqueueBodies = Gen.Frequency(
        (3, Envelope.Select(Encoding.UTF8.GetBytes)),
        (1, Gen.Select(Gen.Int[0, 20], Gen.Char[' ', '~'].Array[0, 30], (ms, name) =>
            Encoding.UTF8.GetBytes($"{{\"name\":{System.Text.Json.JsonSerializer.Serialize(new string(name))},\"durationMs\":{ms}}}"))));

    private static readonly Gen<byte[]> Bodies = Gen.Frequency(
        (8, Gen.Const(Array.Empty<byte>())),
        (10, Envelope.Select(Encoding.UTF8.GetBytes)),
        (3, Gen.Int[0, 20].Select(ms => Encoding.UTF8.GetBytes($"{{\"name\":\"Jean\",\"durationMs\":{ms}}}"))),
        (3, JsonValue.Select(Encoding.UTF8.GetBytes)),
        (2, Envelope.Select(json => Encoding.UTF8.GetBytes(json[..(json.Length / 2)]))),
        (1, Gen.Int[60, 300].Select(depth => Encoding.UTF8.GetBytes(new string('[', depth) + new string(']', depth)))),
        (1, Gen.Int[60, 300].Select(depth => Encoding.UTF8.GetBytes("{\"type\":\"demo\",\"payload\":" + string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth + 1)))),
        (1, Gen.Const(() => Encoding.UTF8.GetBytes("{\"type\":\"demo\",\"payload\":{\"big\":\"" + new string('b', 8000) + "\"}}"))),
        (1, Gen.Byte.Array[1, 200]),
        (1, Gen.OneOf(new byte[] { 0xff, 0xfe, 0x7b, 0x7d }, new byte[] { 0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d }, Encoding.UTF8.GetBytes("\uFEFF{}"))));

    /// <summary>
    /// Bodies of the external worker protocol: claims that mostly pass (never waiting long: the fuzzer wants answers),
    /// and lease reports with well-formed and broken tokens.
    /// </summary>
    private static readonly Gen<byte[]> WorkerBodies = Gen.Frequency(
        (3, Gen.Select(
            Gen.Frequency((6, Gen.OneOf("\"fuzz\"", "\"w-1\"")), (1, Scalar)),
            Gen.Frequency((6, Gen.OneOf("[\"fuzzed\"]", "[\"fuzzed\", \"other\"]")), (1, Gen.OneOf("[]", "[\"demo\"]", "[1]", "\"fuzzed\"")), (1, JsonValue)),
            Gen.Frequency((4, Gen.Int[1, 5].Select(n => n.ToString(CultureInfo.InvariantCulture))), (1, Scalar)),
            Gen.OneOf("0", "0.05", "-1", "31", "\"x\""),
            Gen.Frequency((4, Gen.Const("30")), (1, Scalar)),
            (worker, types, max, wait, lease) => Encoding.UTF8.GetBytes(
                $"{{\"worker\":{worker},\"types\":{types},\"max\":{max},\"waitSeconds\":{wait},\"leaseSeconds\":{lease}}}"))),
        (3, Gen.Select(
            Gen.Frequency((4, Gen.OneOf("\"00000000000000ab.w\"", "\"7fffffffffffffff.fuzz\"", "\"0000000000000000.w\"", "\"ffffffffffffffff.w\"")), (1, Scalar)),
            Gen.OneOf("", ",\"result\":{\"a\":1}", ",\"error\":\"boom\"", ",\"error\":\"x\",\"retryable\":false", ",\"retryable\":\"no\"",
                ",\"leaseSeconds\":5,\"waitSeconds\":1", ",\"waitSeconds\":60", ",\"progress\":[1,2]", ",\"leaseToken\":\"again\"", ",\"x\":1"),
            (token, rest) => Encoding.UTF8.GetBytes($"{{\"leaseToken\":{token}{rest}}}"))),
        (1, JsonValue.Select(Encoding.UTF8.GetBytes)));

    private static readonly Gen<Framing> Framings = Gen.Frequency(
        (30, Gen.Const(Framing.ContentLength)),
        (4, Gen.Const(Framing.Chunked)),
        (1, Gen.OneOf(Framing.BadChunk, Framing.BothLengthAndChunked, Framing.LengthTooShort)));

    /// <summary>Any request: mostly plausible ones, some malformed on the wire. Declared last: it uses the generators above.</summary>
    public static readonly Gen<FuzzRequest> Any = Gen.Frequency(
        (6, Gen.Select(Gen.OneOf("/tasks", "/tasks/"), EnqueueBodies, Framings, (path, body, framing) => new FuzzRequest(
            "POST", path, [("Host", "localhost"), ("Authorization", "Bearer " + Key)], body, framing, Garbage: false))),
        (14, Gen.Select(Methods, Targets, HeaderLists, Bodies, Framings, (m, t, h, b, f) => new FuzzRequest(m, t, h, b, f, Garbage: false))),
        (3, Gen.Select(
            Gen.Frequency((2, Gen.Const("/workers/claim")), (3, Gen.Select(Id, Gen.OneOf("heartbeat", "complete", "fail"), (id, action) => $"/tasks/{id}/{action}"))),
            WorkerBodies, Framings, (path, body, framing) => new FuzzRequest(
            "POST", path, [("Host", "localhost"), ("Authorization", "Bearer " + Key)], body, framing, Garbage: false))),
        (1, Gen.Byte.Array[1, 300].Select(bytes => new FuzzRequest("", "", [], bytes, Framing.ContentLength, Garbage: true))),
        (1, Gen.OneOf(
                "GET /tasks HTTP/9.9\r\nHost: x\r\n\r\n",
                "GET /tasks\r\n\r\n",
                "GET /tasks HTTP/1.0\r\n\r\n",
                "POST /tasks HTTP/1.1\r\n\r\n",
                "\r\n\r\n",
                "GET /tasks HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n",
                "GET /tasks HTTP/1.1\r\nHost: x\r\n: empty-name\r\n\r\n",
                "GET /tasks HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n",
                "GET\t/tasks HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /ta sks HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /tasks HTTP/1.1\nHost: x\n\n")
            .Select(raw => new FuzzRequest("", "", [], Encoding.Latin1.GetBytes(raw), Framing.ContentLength, Garbage: true))));

    public byte[] ToBytes()
    {
        if (Garbage)
        {
            return Body;
        }

        var head = new StringBuilder();
        head.Append(Method).Append(' ').Append(Target).Append(" HTTP/1.1\r\n");
        foreach (var (name, value) in Headers)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        head.Append("Connection: close\r\n");
        var body = Body;
        switch (Framing)
        {
            case Framing.ContentLength when body.Length > 0 || Method is "POST" or "PUT" or "PATCH":
                head.Append("Content-Length: ").Append(body.Length).Append("\r\n");
                break;
            case Framing.Chunked or Framing.BadChunk:
                head.Append("Transfer-Encoding: chunked\r\n");
                body = Chunk(body, bad: Framing == Framing.BadChunk);
                break;
            case Framing.BothLengthAndChunked:
                head.Append("Content-Length: ").Append(body.Length).Append("\r\nTransfer-Encoding: chunked\r\n");
                break;
            case Framing.LengthTooShort:
                head.Append("Content-Length: ").Append(body.Length / 2).Append("\r\n");
                break;
        }

        head.Append("\r\n");
        return [.. Encoding.UTF8.GetBytes(head.ToString()), .. body];
    }

    public override string ToString() =>
        Garbage
            ? "raw bytes: " + Encoding.Latin1.GetString(Body)
            : $"{Method} {Target} [{string.Join("; ", Headers.Select(h => h.Name + ": " + Shorten(h.Value)))}] {Framing} body: {Shorten(Encoding.UTF8.GetString(Body))}";

    private static string Shorten(string text) => text.Length > 200 ? text[..200] + $"... ({text.Length} chars)" : text;

    private static byte[] Chunk(byte[] body, bool bad)
    {
        var chunked = new List<byte>();
        for (var offset = 0; offset < body.Length; offset += 7)
        {
            var piece = body.AsSpan(offset, Math.Min(7, body.Length - offset));
            chunked.AddRange(Encoding.ASCII.GetBytes((bad ? "zz" : piece.Length.ToString("x", CultureInfo.InvariantCulture)) + "\r\n"));
            chunked.AddRange(piece.ToArray());
            chunked.AddRange("\r\n"u8.ToArray());
        }

        chunked.AddRange("0\r\n\r\n"u8.ToArray());
        return [.. chunked];
    }
}
