using System.Net;
using System.Text.Json;
using TaskSystem.Server.Tests.Support;

namespace TaskSystem.Server.Tests.Api;

/// <summary>POST /tasks/bulk: stop, retry and delete by ids or by filter, each task under its single-task rule.</summary>
public sealed class BulkApiTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<(HttpStatusCode Status, JsonElement Body)> BulkAsync(string body)
    {
        using var response = await _client.PostAsync(new Uri("/tasks/bulk", UriKind.Relative), new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        return (response.StatusCode, await response.ReadJsonAsync());
    }

    [Fact]
    public async Task StopByIds_CancelsWaitingTasks_RequestsRunningOnesToStop_AndLeavesFinishedOnes()
    {
        var waiting = await _client.PostTaskAsync("""{"type": "demo", "runAt": "2099-01-01T00:00:00Z"}""");
        var running = await _client.PostTaskAsync("""{"type": "demo", "payload": {"durationMs": 60000}}""");
        var finished = await _client.PostTaskAsync("""{"type": "demo", "payload": {"durationMs": 0}}""");
        await _client.WaitForStateAsync(running.Id(), "running");
        await _client.WaitForStateAsync(finished.Id(), "succeeded");

        var (status, body) = await BulkAsync($$"""{"action": "stop", "ids": [{{waiting.Id()}}, {{running.Id()}}, {{finished.Id()}}, 987654321]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(("stop", 4L, 2L), (body.GetProperty("action").GetString(), body.GetProperty("matched").GetInt64(), body.GetProperty("affected").GetInt64()));
        Assert.Equal("cancelled", (await _client.GetTaskAsync(waiting.Id())).State());
        await _client.WaitForStateAsync(running.Id(), "cancelled");
        Assert.Equal("succeeded", (await _client.GetTaskAsync(finished.Id())).State());
    }

    [Fact]
    public async Task RetryThenDeleteByFilter_TakeOnlyTheMatchingTasks()
    {
        var queue = "bulk-" + Guid.NewGuid().ToString("N")[..8];
        var failed = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            failed.Add((await _client.PostTaskAsync($$$"""{"type": "demo", "queue": "{{{queue}}}", "maxAttempts": 1, "payload": {"durationMs": 0, "failAttempts": 1}}""")).Id());
        }

        var elsewhere = await _client.PostTaskAsync("""{"type": "demo", "queue": "bulk-other", "maxAttempts": 1, "payload": {"durationMs": 0, "failAttempts": 1}}""");
        foreach (var id in failed.Append(elsewhere.Id()))
        {
            await _client.WaitForStateAsync(id, "failed");
        }

        var (retryStatus, retried) = await BulkAsync($$$"""{"action": "retry", "filter": {"state": ["failed"], "queue": "{{{queue}}}"}}""");
        Assert.Equal(HttpStatusCode.OK, retryStatus);
        Assert.Equal((3L, 3L), (retried.GetProperty("matched").GetInt64(), retried.GetProperty("affected").GetInt64()));
        Assert.Equal("failed", (await _client.GetTaskAsync(elsewhere.Id())).State());
        foreach (var id in failed)
        {
            // A retry gives fresh attempts; the demo fails attempt 1 only, and this is attempt 1 again.
            await _client.WaitForStateAsync(id, "failed");
        }

        var (deleteStatus, deleted) = await BulkAsync($$$"""{"action": "delete", "filter": {"queue": "{{{queue}}}", "createdBefore": "2099-01-01T00:00:00Z"}}""");
        Assert.Equal(HttpStatusCode.OK, deleteStatus);
        Assert.Equal(3L, deleted.GetProperty("affected").GetInt64());
        foreach (var id in failed)
        {
            using var gone = await _client.GetAsync(new Uri($"/tasks/{id}", UriKind.Relative));
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        Assert.Equal("failed", (await _client.GetTaskAsync(elsewhere.Id())).State());
    }

    [Fact]
    public async Task Delete_LeavesUnfinishedTasks()
    {
        var waiting = await _client.PostTaskAsync("""{"type": "demo", "runAt": "2099-01-01T00:00:00Z"}""");

        var (status, body) = await BulkAsync($$"""{"action": "delete", "ids": [{{waiting.Id()}}]}""");

        Assert.Equal((HttpStatusCode.OK, 0L), (status, body.GetProperty("affected").GetInt64()));
        Assert.Equal("scheduled", (await _client.GetTaskAsync(waiting.Id())).State());
    }

    [Theory]
    [InlineData("""{"ids": [1]}""", "action")]
    [InlineData("""{"action": "purge", "ids": [1]}""", "action")]
    [InlineData("""{"action": "1", "ids": [1]}""", "action")]
    [InlineData("""{"action": "stop"}""", "ids")]
    [InlineData("""{"action": "stop", "ids": [1], "filter": {}}""", "filter")]
    [InlineData("""{"action": "stop", "ids": [0]}""", "ids")]
    [InlineData("""{"action": "stop", "ids": ["1"]}""", "ids")]
    [InlineData("""{"action": "stop", "ids": 1}""", "ids")]
    [InlineData("""{"action": "stop", "filter": {"state": "sleeping"}}""", "filter.state")]
    [InlineData("""{"action": "stop", "filter": {"createdBefore": "yesterday"}}""", "filter.createdBefore")]
    [InlineData("""{"action": "stop", "filter": {"owner": "me"}}""", "filter.owner")]
    [InlineData("""{"action": "stop", "filter": []}""", "filter")]
    [InlineData("""{"action": "stop", "ids": [1], "extra": true}""", "extra")]
    public async Task BadInput_Is400_NamingTheField(string body, string field)
    {
        var (status, problem) = await BulkAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(field, problem.GetProperty("field").GetString());
    }

    [Fact]
    public async Task TooManyIds_Is400()
    {
        var (status, problem) = await BulkAsync($$"""{"action": "stop", "ids": [{{string.Join(',', Enumerable.Range(1, 1001))}}]}""");

        Assert.Equal((HttpStatusCode.BadRequest, "ids"), (status, problem.GetProperty("field").GetString()));
    }
}
