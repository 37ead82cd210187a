using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TaskSystem.Server.Tests.Support;

namespace TaskSystem.Server.Tests.Api;

/// <summary>Bad input gets a 4xx problem+json that says what was wrong: never a 500, never a crash.</summary>
public sealed class BadInputApiTests : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client;

    public BadInputApiTests(ApiFactory factory)
    {
        factory.Settings["TaskSystem:MaxPayloadBytes"] = "2000";
        _client = factory.CreateClient();
    }

    public static TheoryData<string, int, string> BadBodies => new()
    {
        { "", 400, "empty" },
        { "not json", 400, "not valid JSON" },
        { "[1, 2]", 400, "must be a JSON object" },
        { "42", 400, "must be a JSON object" },
        { """{"type": "nope"}""", 400, "unknown task type 'nope'" },
        { """{"type": ""}""", 400, "non-empty string" },
        { """{"type": 5}""", 400, "non-empty string" },
        { """{"type": "demo", "payload": [1]}""", 400, "payload must be a JSON object" },
        { """{"type": "demo", "priority": "high"}""", 400, "priority must be an integer" },
        { """{"type": "demo", "priority": 1.5}""", 400, "priority must be an integer" },
        { """{"type": "demo", "priority": 99999}""", 400, "priority must be between" },
        { """{"type": "demo", "maxAttempts": -1}""", 400, "maxAttempts must be between 1" },
        { """{"type": "demo", "timeoutSeconds": 0}""", 400, "timeoutSeconds must be a positive number" },
        { """{"type": "demo", "timeoutSeconds": 9999999}""", 400, "timeout must be between" },
        { """{"type": "demo", "queue": "no spaces please"}""", 400, "queue may contain only" },
        { """{"type": "demo", "runAt": "tomorrow"}""", 400, "runAt must be an ISO 8601" },
        { """{"type": "demo", "runAt": "2030-01-01T12:00:00"}""", 400, "runAt must be an ISO 8601" },
        { """{"type": "demo", "runAt": "01/02/2030"}""", 400, "runAt must be an ISO 8601" },
        { """{"type": "demo", "name": "Jean"}""", 400, "Unknown field 'name'" },
        { """{"type": "demo", "type": "demo"}""", 400, "appears twice" },
        { """{"type": "demo", "payload": {"durationMs": -5}}""", 400, "payload.durationMs must be an integer" },
        { """{"durationMs": "soon"}""", 400, "payload.durationMs must be an integer" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Post_BadBody_IsA4xxProblemThatSaysWhy(string body, int status, string message)
    {
        using var response = await _client.PostAsync(new Uri("/tasks", UriKind.Relative), new StringContent(body));

        await AssertProblemAsync(response, status, message);
    }

    [Fact]
    public async Task Post_NestingTooDeep_IsA400()
    {
        var deep = new string('[', 100) + new string(']', 100);

        using var response = await _client.PostAsync(new Uri("/tasks", UriKind.Relative), new StringContent("{\"type\": \"demo\", \"payload\": {\"x\": " + deep + "}}"));

        await AssertProblemAsync(response, 400, "nested deeper than 64");
    }

    [Fact]
    public async Task Post_PayloadAtTheDepthLimit_IsStoredAndServed_OneDeeperIsA400()
    {
        static string Nested(int depth) => string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);

        using var atLimit = await _client.PostAsync(new Uri("/tasks", UriKind.Relative), new StringContent(Nested(64)));
        using var envelope = await _client.PostAsync(new Uri("/tasks", UriKind.Relative), new StringContent("{\"type\": \"demo\", \"runAt\": \"2099-01-01T00:00:00Z\", \"payload\": " + Nested(64) + "}"));
        using var deeper = await _client.PostAsync(new Uri("/tasks", UriKind.Relative), new StringContent("{\"type\": \"demo\", \"payload\": " + Nested(65) + "}"));
        using var list = await _client.GetAsync(new Uri("/tasks?state=all", UriKind.Relative));

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.OK), (atLimit.StatusCode, envelope.StatusCode, list.StatusCode));
        await AssertProblemAsync(deeper, 400, "nested deeper than 64");
    }

    [Fact]
    public async Task Post_PayloadOverTheLimit_IsA413()
    {
        var big = new string('x', 3000);

        using var response = await _client.PostAsync(new Uri("/tasks", UriKind.Relative), new StringContent("{\"type\": \"demo\", \"payload\": {\"blob\": \"" + big + "\"}}"));

        await AssertProblemAsync(response, 413, "the limit is 2000");
    }

    [Fact]
    public async Task Post_BodyFarOverTheLimit_IsA413WithoutReadingItAll()
    {
        var huge = new string(' ', 200_000);

        using var response = await _client.PostAsync(new Uri("/tasks", UriKind.Relative), new StringContent("{" + huge + "}"));

        await AssertProblemAsync(response, 413, "larger than");
    }

    [Theory]
    [InlineData("GET", "/tasks/abc", 404, "No task has the id 'abc'")]
    [InlineData("GET", "/tasks/-1", 404, "No task has the id")]
    [InlineData("GET", "/tasks/99999999", 404, "No task has the id")]
    [InlineData("GET", "/tasks/99999999999999999999999", 404, "No task has the id")]
    [InlineData("DELETE", "/tasks/abc", 404, "No task has the id")]
    [InlineData("DELETE", "/tasks/99999999", 404, "No task has the id")]
    [InlineData("POST", "/tasks/abc/retry", 404, "No task has the id")]
    [InlineData("POST", "/tasks/99999999/retry", 404, "No task has the id")]
    [InlineData("GET", "/tasks?state=bogus", 400, "Unknown state 'bogus'")]
    [InlineData("GET", "/tasks?limit=0", 400, "limit must be an integer between 1 and 1000")]
    [InlineData("GET", "/tasks?limit=abc", 400, "limit must be an integer")]
    [InlineData("GET", "/tasks?limit=5000", 400, "limit must be an integer")]
    [InlineData("GET", "/tasks?state=all&cursor=xyz", 400, "cursor must be")]
    [InlineData("GET", "/nothing/here", 404, "Nothing is served at GET /nothing/here")]
    [InlineData("PUT", "/tasks", 405, "PUT is not allowed")]
    public async Task BadRouteOrQuery_IsA4xxProblemThatSaysWhy(string method, string path, int status, string message)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative));

        using var response = await _client.SendAsync(request);

        await AssertProblemAsync(response, status, message);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, int status, string message)
    {
        Assert.Equal((HttpStatusCode)status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.Contains(message, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
