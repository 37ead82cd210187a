using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TaskSystem.Server.Tests.Support;

namespace TaskSystem.Server.Tests.Api;

/// <summary>POST /tasks/batch: one commit, all or nothing, the tasks in the order sent, a bad item named by its place.</summary>
public sealed class BatchApiTests : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client;

    public BatchApiTests(ApiFactory factory)
    {
        factory.Settings["TaskSystem:MaxBatchSize"] = "50";
        _client = factory.CreateClient();
    }

    private async Task<HttpResponseMessage> PostBatchAsync(string body) =>
        await _client.PostAsync(new Uri("/tasks/batch", UriKind.Relative), new StringContent(body));

    private async Task<int> CountInQueueAsync(string queue)
    {
        var page = await _client.GetFromJsonAsync<JsonElement>(new Uri($"/tasks?state=all&queue={queue}&limit=1000", UriKind.Relative));
        return page.GetProperty("tasks").GetArrayLength();
    }

    private static string Envelope(string queue, int n) =>
        $$$"""{"type": "demo", "queue": "{{{queue}}}", "runAt": "2099-01-01T00:00:00Z", "payload": {"n": {{{n}}}}}""";

    [Fact]
    public async Task PostBatch_StoresEveryTask_AndAnswersThemInOrder()
    {
        var queue = "b" + Guid.NewGuid().ToString("N")[..8];
        var body = $$"""{"tasks": [{{string.Join(", ", Enumerable.Range(0, 50).Select(n => Envelope(queue, n)))}}]}""";

        using var response = await PostBatchAsync(body);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var tasks = (await response.ReadJsonAsync()).GetProperty("tasks").EnumerateArray().ToList();
        Assert.Equal(Enumerable.Range(0, 50), tasks.Select(t => t.GetProperty("payload").GetProperty("n").GetInt32()));
        Assert.Equal(tasks.Select(t => t.Id()).Order(), tasks.Select(t => t.Id()));
        Assert.Equal(50, await CountInQueueAsync(queue));
    }

    [Theory]
    [InlineData("""{"type": "nope"}""", "tasks[2].type", "unknown task type 'nope'")]
    [InlineData("""{"type": "demo", "priority": "high"}""", "tasks[2].priority", "priority must be an integer")]
    [InlineData("""{"type": "demo", "priority": 5000}""", "tasks[2].priority", "priority must be between")]
    [InlineData("""{"type": "demo", "payload": {"durationMs": -1}}""", "tasks[2].payload", "durationMs")]
    [InlineData("""[1]""", "tasks[2]", "must be a JSON object")]
    public async Task PostBatch_OneBadItem_IsA400NamingItsPlace_AndStoresNothing(string bad, string field, string message)
    {
        var queue = "b" + Guid.NewGuid().ToString("N")[..8];
        var body = $$"""{"tasks": [{{Envelope(queue, 0)}}, {{Envelope(queue, 1)}}, {{bad}}, {{Envelope(queue, 3)}}]}""";

        using var response = await PostBatchAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.ReadJsonAsync();
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.Contains(message, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await CountInQueueAsync(queue));
    }

    [Theory]
    [InlineData("""{"tasks": []}""", "tasks", "1 to 50")]
    [InlineData("""{"tasks": {}}""", "tasks", "an array of task envelopes")]
    [InlineData("""{"items": []}""", "items", "Unknown field 'items'")]
    [InlineData("""[]""", null, "must be a JSON object")]
    public async Task PostBatch_BadShape_IsA400(string body, string? field, string message)
    {
        using var response = await PostBatchAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadJsonAsync();
        Assert.Equal(field, problem.TryGetProperty("field", out var f) ? f.GetString() : null);
        Assert.Contains(message, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostBatch_OverMaxBatchSize_IsA400()
    {
        var body = $$"""{"tasks": [{{string.Join(", ", Enumerable.Range(0, 51).Select(n => Envelope("over", n)))}}]}""";

        using var response = await PostBatchAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("got 51", (await response.ReadJsonAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await CountInQueueAsync("over"));
    }

    [Fact]
    public async Task PostBatch_KeysApplyPerItem_HeldKeysReturnTheirTasks()
    {
        var queue = "b" + Guid.NewGuid().ToString("N")[..8];
        var key = Guid.NewGuid().ToString();
        var keyed = $$"""{"type": "demo", "queue": "{{queue}}", "runAt": "2099-01-01T00:00:00Z", "key": "{{key}}"}""";
        using var first = await PostBatchAsync($$"""{"tasks": [{{keyed}}, {{Envelope(queue, 1)}}]}""");

        using var second = await PostBatchAsync($$"""{"tasks": [{{Envelope(queue, 2)}}, {{keyed}}, {{keyed}}]}""");
        using var third = await PostBatchAsync($$"""{"tasks": [{{keyed}}]}""");

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        var keyedId = (await first.ReadJsonAsync()).GetProperty("tasks")[0].Id();
        var again = (await second.ReadJsonAsync()).GetProperty("tasks");
        Assert.False(again[0].TryGetProperty("existing", out _));
        Assert.Equal((keyedId, true), (again[1].Id(), again[1].GetProperty("existing").GetBoolean()));
        Assert.Equal(keyedId, again[2].Id());
        Assert.Equal(3, await CountInQueueAsync(queue));
    }

    [Fact]
    public async Task PostBatch_WithAnIdempotencyKeyHeader_IsA400()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/tasks/batch", UriKind.Relative))
        {
            Content = new StringContent($$"""{"tasks": [{{Envelope("hdr", 0)}}]}"""),
        };
        request.Headers.Add("Idempotency-Key", "k");

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("key", (await response.ReadJsonAsync()).GetProperty("field").GetString());
    }
}
