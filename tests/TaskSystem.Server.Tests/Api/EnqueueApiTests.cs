using System.Net;
using TaskSystem.Server.Tests.Support;

namespace TaskSystem.Server.Tests.Api;

/// <summary>POST /tasks as the seed uses it, and with the full envelope.</summary>
public sealed class EnqueueApiTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Post_TheSeedsOwnCommand_WithNoJsonContentType_CreatesADemoTask()
    {
        // curl -X POST http://localhost:4000/tasks -d '{"name": "Jean", "number": "42"}' sends form-urlencoded.
        using var content = new StringContent("""{"name": "Jean", "number": "42", "durationMs": 10}""", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded");
        using var response = await _client.PostAsync(new Uri("/tasks", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var task = await response.ReadJsonAsync();
        Assert.Equal($"/tasks/{task.Id()}", response.Headers.Location!.OriginalString);
        Assert.Equal("demo", task.GetProperty("type").GetString());
        Assert.Contains(task.State(), new[] { "queued", "running" });
        Assert.Equal("Jean", task.GetProperty("payload").GetProperty("name").GetString());

        var done = await _client.WaitForStateAsync(task.Id(), "succeeded");
        Assert.Equal("42", done.GetProperty("result").GetProperty("number").GetString());
        Assert.Equal("api-test", done.GetProperty("node").GetString());
    }

    [Fact]
    public async Task Post_Envelope_SetsEveryField()
    {
        var task = await _client.PostTaskAsync("""
            {"type": "demo", "payload": {"durationMs": 0}, "queue": "mail", "priority": -3, "maxAttempts": 7, "timeoutSeconds": 2.5}
            """);

        Assert.Equal(("mail", -3, 7, 2.5), (task.GetProperty("queue").GetString(), task.GetProperty("priority").GetInt32(),
            task.GetProperty("maxAttempts").GetInt32(), task.GetProperty("timeoutSeconds").GetDouble()));
        await _client.WaitForStateAsync(task.Id(), "succeeded");
    }

    [Fact]
    public async Task Post_WithRunAtInTheFuture_IsScheduled()
    {
        var task = await _client.PostTaskAsync("""{"type": "demo", "runAt": "2099-01-01T00:00:00Z"}""");

        Assert.Equal("scheduled", task.State());
        Assert.StartsWith("2099-01-01", task.GetProperty("runAt").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DemoTask_FailingItsFirstAttempt_IsRetriedAndSucceeds_KeepingTheError()
    {
        var task = await _client.PostTaskAsync("""{"type": "demo", "payload": {"durationMs": 0, "failAttempts": 1}}""");

        var done = await _client.WaitForStateAsync(task.Id(), "succeeded");

        Assert.Equal(2, done.GetProperty("attempt").GetInt32());
        var error = Assert.Single(done.GetProperty("errors").EnumerateArray());
        Assert.Contains("demo failure on attempt 1", error.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DemoTask_FailingEveryAttempt_EndsFailedWithTheLastError()
    {
        var task = await _client.PostTaskAsync("""{"type": "demo", "maxAttempts": 2, "payload": {"durationMs": 0, "failAttempts": 5}}""");

        var failed = await _client.WaitForStateAsync(task.Id(), "failed");

        Assert.Equal(2, failed.GetProperty("attempt").GetInt32());
        Assert.Contains("attempt 2", failed.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DemoTask_OverItsTimeout_IsCancelledAndFails()
    {
        var task = await _client.PostTaskAsync("""{"type": "demo", "maxAttempts": 1, "timeoutSeconds": 0.2, "payload": {"durationMs": 60000}}""");

        var failed = await _client.WaitForStateAsync(task.Id(), "failed");

        Assert.StartsWith("timed out", failed.GetProperty("error").GetString(), StringComparison.Ordinal);
    }
}
