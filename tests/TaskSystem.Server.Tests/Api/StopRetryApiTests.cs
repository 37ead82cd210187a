using System.Net;
using TaskSystem.Server.Tests.Support;

namespace TaskSystem.Server.Tests.Api;

/// <summary>DELETE /tasks/{id} stops; POST /tasks/{id}/retry puts a failed or cancelled task back.</summary>
public sealed class StopRetryApiTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private Task<HttpResponseMessage> DeleteAsync(long id) => _client.DeleteAsync(new Uri($"/tasks/{id}", UriKind.Relative));

    private Task<HttpResponseMessage> RetryAsync(long id) => _client.PostAsync(new Uri($"/tasks/{id}/retry", UriKind.Relative), null);

    [Fact]
    public async Task Delete_RunningTask_Is204_AndAGetRightAfterShowsCancelled()
    {
        var task = await _client.PostTaskAsync("""{"type": "demo", "payload": {"durationMs": 60000}}""");
        await _client.WaitForStateAsync(task.Id(), "running");

        using var response = await DeleteAsync(task.Id());
        var after = await _client.GetTaskAsync(task.Id());

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("cancelled", after.State());
        Assert.True(after.GetProperty("stopRequested").GetBoolean());
        using var again = await DeleteAsync(task.Id());
        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
    }

    [Fact]
    public async Task Delete_ScheduledTask_Is204_AndItNeverStarts()
    {
        var task = await _client.PostTaskAsync("""{"type": "demo", "runAt": "2099-01-01T00:00:00Z"}""");

        using var response = await DeleteAsync(task.Id());

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var after = await _client.GetTaskAsync(task.Id());
        Assert.Equal(("cancelled", 0), (after.State(), after.GetProperty("attempt").GetInt32()));
    }

    [Fact]
    public async Task Delete_SucceededTask_Is409()
    {
        var task = await _client.PostTaskAsync("""{"type": "demo", "payload": {"durationMs": 0}}""");
        await _client.WaitForStateAsync(task.Id(), "succeeded");

        using var response = await DeleteAsync(task.Id());

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Retry_FailedTask_PutsItBackInTheQueue_AndItRunsAgain()
    {
        var task = await _client.PostTaskAsync("""{"type": "demo", "maxAttempts": 1, "payload": {"durationMs": 0, "failAttempts": 1}}""");
        await _client.WaitForStateAsync(task.Id(), "failed");

        using var response = await RetryAsync(task.Id());
        var retried = await response.ReadJsonAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(retried.State(), new[] { "queued", "running", "succeeded" });
        // A fresh set of attempts: the demo's failAttempts counts from 1 again, so it fails once more.
        await _client.WaitForStateAsync(task.Id(), "failed");
    }

    [Fact]
    public async Task Retry_CancelledTask_RunsItToTheEnd()
    {
        var task = await _client.PostTaskAsync("""{"type": "demo", "runAt": "2099-01-01T00:00:00Z", "payload": {"durationMs": 0}}""");
        (await DeleteAsync(task.Id())).Dispose();

        using var response = await RetryAsync(task.Id());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await _client.WaitForStateAsync(task.Id(), "succeeded");
    }

    [Fact]
    public async Task Retry_TaskThatIsNotFailedOrCancelled_Is409()
    {
        var task = await _client.PostTaskAsync("""{"type": "demo", "runAt": "2099-01-01T00:00:00Z"}""");

        using var response = await RetryAsync(task.Id());

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("only failed or cancelled", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
