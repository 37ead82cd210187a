using System.Text.Json;
using TaskSystem.Handlers.Http;

namespace TaskSystem.Tests.Handlers.Http;

/// <summary>The payload rules an http task is checked against at enqueue and before each attempt.</summary>
public sealed class HttpTargetRequestTests
{
    private static readonly TargetAllowList Allowed = new(["https://api.example.com/hooks/", "http://10.0.0.5:8080/in"]);

    private static (HttpTargetRequest? Request, string? Error) Parse(string json, int maxBody = 1024)
    {
        using var document = JsonDocument.Parse(json);
        var request = HttpTargetRequest.Parse(document.RootElement, Allowed, maxBody, out var error);
        return (request, error);
    }

    [Fact]
    public void FullPayload_IsRead()
    {
        var (request, error) = Parse("""
            {"url": "https://api.example.com/hooks/a?b=1", "method": "patch", "headers": {"X-A": "1"}, "body": {"k": [1, 2]}, "timeoutSeconds": 2.5}
            """);

        Assert.Null(error);
        Assert.Equal(("https://api.example.com/hooks/a?b=1", "PATCH", TimeSpan.FromSeconds(2.5), true), (request!.Url.AbsoluteUri, request.Method, request.Timeout, request.BodyIsJson));
        Assert.Equal("""{"k": [1, 2]}""", System.Text.Encoding.UTF8.GetString(request.Body!));
        Assert.Equal(new KeyValuePair<string, string>("X-A", "1"), Assert.Single(request.Headers));
    }

    [Fact]
    public void UrlOnly_IsAPostWithoutBody_And30Seconds()
    {
        var (request, error) = Parse("""{"url": "https://api.example.com/hooks/a"}""");

        Assert.Null(error);
        Assert.Equal(("POST", (byte[]?)null, TimeSpan.FromSeconds(30)), (request!.Method, request.Body, request.Timeout));
    }

    [Theory]
    [InlineData("""{}""", "payload.url is required")]
    [InlineData("""{"url": ""}""", "payload.url is required")]
    [InlineData("""{"url": 42}""", "payload.url is required")]
    [InlineData("""{"url": "/hooks/a"}""", "payload.url must be an absolute http or https URL (got '/hooks/a')")]
    [InlineData("""{"url": "hooks/a"}""", "payload.url must be an absolute http or https URL")]
    [InlineData("""{"url": "ftp://api.example.com/hooks/a"}""", "payload.url must be an absolute http or https URL (got 'ftp://api.example.com/hooks/a')")]
    [InlineData("""{"url": "file:///etc/passwd"}""", "payload.url must be an absolute http or https URL")]
    [InlineData("""{"url": "https://evil.example/hooks/a"}""", "payload.url https://evil.example/hooks/a is not under any of TaskSystem:Http:AllowedTargets (https://api.example.com/hooks/, http://10.0.0.5:8080/in)")]
    [InlineData("""{"url": "https://user:pw@api.example.com/hooks/a"}""", "payload.url must not carry a user name or password")]
    [InlineData("""{"url": "https://api.example.com/hooks/a#top"}""", "payload.url must not have a fragment")]
    [InlineData("""{"url": "https://api.example.com/hooks/%2e%2e/admin"}""", "payload.url https://api.example.com/admin is not under any of")]
    [InlineData("""{"url": "https://api.example.com/hooks/..%2fadmin"}""", "payload.url must not have escaped dots, slashes or backslashes")]
    [InlineData("""{"url": "https://api.example.com/hooks/..%5Cadmin"}""", "payload.url must not have escaped dots, slashes or backslashes")]
    [InlineData("""{"url": "https://api.example.com/hooks/a", "method": "TRACE"}""", "payload.method must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS (got \"TRACE\")")]
    [InlineData("""{"url": "https://api.example.com/hooks/a", "method": 1}""", "payload.method must be one of")]
    [InlineData("""{"url": "https://api.example.com/hooks/a", "method": "GET", "body": "x"}""", "payload.body cannot be sent with GET")]
    [InlineData("""{"url": "https://api.example.com/hooks/a", "body": "ééééé"}""", "payload.body is 10 bytes; the limit is 8 (TaskSystem:Http:MaxRequestBodyBytes)")]
    [InlineData("""{"url": "https://api.example.com/hooks/a", "body": [1, 2, 3, 4]}""", "payload.body is 12 bytes; the limit is 8")]
    [InlineData("""{"url": "https://api.example.com/hooks/a", "headers": ["X-A"]}""", "payload.headers must be an object")]
    [InlineData("""{"url": "https://api.example.com/hooks/a", "headers": {"Host": "internal"}}""", "payload.headers.Host cannot be set by a task")]
    [InlineData("""{"url": "https://api.example.com/hooks/a", "headers": {"content-length": "5"}}""", "payload.headers.content-length cannot be set by a task")]
    [InlineData("""{"url": "https://api.example.com/hooks/a", "headers": {"Transfer-Encoding": "chunked"}}""", "payload.headers.Transfer-Encoding cannot be set")]
    [InlineData("""{"url": "https://api.example.com/hooks/a", "headers": {"Connection": "close"}}""", "payload.headers.Connection cannot be set")]
    [InlineData("""{"url": "https://api.example.com/hooks/a", "headers": {"Upgrade": "websocket"}}""", "payload.headers.Upgrade cannot be set")]
    [InlineData("""{"url": "https://api.example.com/hooks/a", "headers": {"TaskSystem-Attempt": "9"}}""", "payload.headers.TaskSystem-Attempt cannot be set")]
    [InlineData("""{"url": "https://api.example.com/hooks/a", "headers": {"Idempotency-Key": "9"}}""", "payload.headers.Idempotency-Key cannot be set")]
    [InlineData("""{"url": "https://api.example.com/hooks/a", "headers": {"Bad Name": "x"}}""", "payload.headers has an invalid header name 'Bad Name'")]
    [InlineData("""{"url": "https://api.example.com/hooks/a", "headers": {"X-A": "a\r\nHost: b"}}""", "payload.headers.X-A must be at most 8192 characters of Latin-1 text without line breaks")]
    [InlineData("""{"url": "https://api.example.com/hooks/a", "headers": {"X-A": 1}}""", "payload.headers.X-A must be a string")]
    [InlineData("""{"url": "https://api.example.com/hooks/a", "headers": {"Content-Type": "text/csv"}}""", "payload.headers.Content-Type describes a body, and the task has no payload.body")]
    [InlineData("""{"url": "https://api.example.com/hooks/a", "timeoutSeconds": 0}""", "payload.timeoutSeconds must be a number between 0.001 and 86400 (got 0)")]
    [InlineData("""{"url": "https://api.example.com/hooks/a", "timeoutSeconds": "5"}""", "payload.timeoutSeconds must be a number")]
    [InlineData("""{"url": "https://api.example.com/hooks/a", "header": {}}""", "payload.header is not a field of an http task; its fields are url, method, headers, body, timeoutSeconds.")]
    public void BadPayload_IsRefused_WithAMessageNamingTheField(string json, string message)
    {
        var (request, error) = Parse(json, maxBody: 8);

        Assert.Null(request);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void NoAllowedTargets_RefusesEveryUrl_NamingTheSetting()
    {
        using var document = JsonDocument.Parse("""{"url": "https://api.example.com/hooks/a"}""");

        HttpTargetRequest.Parse(document.RootElement, new TargetAllowList([]), 1024, out var error);

        Assert.Equal("http tasks are off on this server: set TaskSystem:Http:AllowedTargets to the URL prefixes they may call.", error);
    }
}
