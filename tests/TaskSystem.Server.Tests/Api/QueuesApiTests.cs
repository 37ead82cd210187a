using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TaskSystem.Server.Tests.Support;

namespace TaskSystem.Server.Tests.Api;

/// <summary>GET /queues, POST /queues/{name}/pause and /resume through the real pipeline.</summary>
public sealed class QueuesApiTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private Task<HttpResponseMessage> PostAsync(string path) => _client.PostAsync(new Uri(path, UriKind.Relative), null);

    private async Task<JsonElement> QueueAsync(string name) =>
        (await _client.GetFromJsonAsync<JsonElement>(new Uri("/queues", UriKind.Relative))).GetProperty("queues").EnumerateArray().Single(q => q.GetProperty("name").GetString() == name);

    [Fact]
    public async Task Pause_HoldsTheQueuesTasks_GetQueuesShowsIt_AndResumeRunsThem()
    {
        using var paused = await PostAsync("/queues/api-held/pause");
        var pauseAnswer = await paused.ReadJsonAsync();
        var task = await _client.PostTaskAsync("""{"type": "demo", "queue": "api-held", "payload": {"durationMs": 0}}""");
        var other = await _client.PostTaskAsync("""{"type": "demo", "queue": "api-free", "payload": {"durationMs": 0}}""");
        await _client.WaitForStateAsync(other.Id(), "succeeded");

        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        Assert.Equal((true, true), (pauseAnswer.GetProperty("paused").GetBoolean(), pauseAnswer.GetProperty("changed").GetBoolean()));
        Assert.Equal("queued", (await _client.GetTaskAsync(task.Id())).State());
        var listed = await QueueAsync("api-held");
        Assert.Equal((true, 1L, 1L, true), (listed.GetProperty("paused").GetBoolean(), listed.GetProperty("counts").GetProperty("queued").GetInt64(),
            listed.GetProperty("total").GetInt64(), listed.GetProperty("served").GetBoolean()));
        Assert.Equal(JsonValueKind.Null, listed.GetProperty("concurrency").ValueKind);

        using var resumed = await PostAsync("/queues/api-held/resume");
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        await _client.WaitForStateAsync(task.Id(), "succeeded");
        Assert.False((await QueueAsync("api-held")).GetProperty("paused").GetBoolean());
        using var again = await PostAsync("/queues/api-held/resume");
        Assert.False((await again.ReadJsonAsync()).GetProperty("changed").GetBoolean());
    }

    [Fact]
    public async Task Pause_AQueueWithNoTasks_ListsIt()
    {
        using var paused = await PostAsync("/queues/api-empty/pause");

        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        var listed = await QueueAsync("api-empty");
        Assert.Equal((true, 0L), (listed.GetProperty("paused").GetBoolean(), listed.GetProperty("total").GetInt64()));
    }

    [Fact]
    public async Task Pause_WithAnInvalidName_Is400_NamingTheField()
    {
        var tooLong = new string('q', 300);
        using var response = await PostAsync($"/queues/{tooLong}/pause");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("queue", (await response.ReadJsonAsync()).GetProperty("field").GetString());
    }
}
