using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TaskSystem.Server.Tests.Support;
using TaskSystem.Tests.Support;

namespace TaskSystem.Server.Tests.Api;

/// <summary>
/// The external worker protocol through the real pipeline: claim, heartbeat, complete, fail; 409 problems that say
/// why a lease no longer holds; bad input as 4xx naming the field, never a 5xx.
/// </summary>
public sealed class WorkersApiTests : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client;

    public WorkersApiTests(ApiFactory factory)
    {
        factory.Settings["TaskSystem:ExternalTypes:0"] = "resize";
        factory.Settings["TaskSystem:ExternalTypes:1"] = "thumbnail";
        factory.Settings["TaskSystem:RescueInterval"] = "00:00:00.200";
        _client = factory.CreateClient();
    }

    [Fact]
    public async Task ClaimHeartbeatComplete_RunsATaskOfADeclaredType_AndTheTaskShowsWhoRanIt()
    {
        var task = await _client.PostTaskAsync("""{"type": "resize", "payload": {"width": 640}, "queue": "images-api"}""");

        var claimed = Assert.Single(await ClaimAsync("""{"worker": "py-1", "types": ["resize"], "queues": ["images-api"], "max": 5, "waitSeconds": 5}"""));
        var beat = await PostAsync($"/tasks/{task.Id()}/heartbeat", $$$"""{"leaseToken": "{{{Token(claimed)}}}", "leaseSeconds": 60, "progress": {"percent": 50, "message": "half way"}}""");
        var during = await _client.GetTaskAsync(task.Id());
        var done = await PostAsync($"/tasks/{task.Id()}/complete", $$$"""{"leaseToken": "{{{Token(claimed)}}}", "result": {"path": "/out/1.png"}}""");

        Assert.Equal((task.Id(), "resize", "images-api", 1, 3), (claimed.Id(), claimed.GetProperty("type").GetString(), claimed.GetProperty("queue").GetString(),
            claimed.GetProperty("attempt").GetInt32(), claimed.GetProperty("maxAttempts").GetInt32()));
        Assert.Equal(640, claimed.GetProperty("payload").GetProperty("width").GetInt32());
        Assert.True(claimed.GetProperty("leaseExpiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow);
        Assert.Equal(HttpStatusCode.OK, beat.StatusCode);
        var heartbeat = await beat.ReadJsonAsync();
        Assert.False(heartbeat.GetProperty("stopRequested").GetBoolean());
        Assert.True(heartbeat.GetProperty("leaseExpiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddSeconds(50));
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.Equal("succeeded", (await done.ReadJsonAsync()).State());
        var stored = await _client.GetTaskAsync(task.Id());
        Assert.Equal(("succeeded", "worker:py-1", "/out/1.png"), (stored.State(), stored.GetProperty("node").GetString(), stored.GetProperty("result").GetProperty("path").GetString()));
        Assert.Equal((50d, "half way", 1), (during.GetProperty("progress").GetProperty("percent").GetDouble(),
            during.GetProperty("progress").GetProperty("message").GetString(), during.GetProperty("progress").GetProperty("attempt").GetInt32()));
        Assert.Equal(50d, stored.GetProperty("progress").GetProperty("percent").GetDouble());
    }

    [Fact]
    public async Task Heartbeat_ProgressReportsComingFast_AreCoalesced_AndTheLastIsKeptWhenTheWorkerCompletes()
    {
        var task = await _client.PostTaskAsync("""{"type": "resize", "queue": "images-progress"}""");
        var claimed = Assert.Single(await ClaimAsync("""{"worker": "py-2", "types": ["resize"], "queues": ["images-progress"]}"""));

        foreach (var percent in new[] { 10, 20, 30 })
        {
            using var beat = await PostAsync($"/tasks/{task.Id()}/heartbeat", $$"""{"leaseToken": "{{Token(claimed)}}", "progress": {{percent}}}""");
            Assert.Equal(HttpStatusCode.OK, beat.StatusCode);
        }

        var between = (await _client.GetTaskAsync(task.Id())).GetProperty("progress").GetProperty("percent").GetDouble();
        using var done = await PostAsync($"/tasks/{task.Id()}/complete", $$"""{"leaseToken": "{{Token(claimed)}}"}""");

        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.True(between < 30, $"three reports within a second wrote the first only (or the first and, a second later, the last); read {between}");
        var last = (await _client.GetTaskAsync(task.Id())).GetProperty("progress");
        Assert.Equal((30d, JsonValueKind.Null), (last.GetProperty("percent").GetDouble(), last.GetProperty("message").ValueKind));
    }

    [Theory]
    [InlineData("""{"percent": 101}""", "progress.percent")]
    [InlineData("""{"percent": "half"}""", "progress.percent")]
    [InlineData("""{"message": "no percent"}""", "progress.percent")]
    [InlineData("""{"percent": 5, "done": true}""", "progress.done")]
    [InlineData("""[1, 2]""", "progress")]
    [InlineData("-1", "progress")]
    public async Task Heartbeat_WithProgressOfTheWrongShape_Is400_NamingTheField(string progress, string field)
    {
        var task = await _client.PostTaskAsync("""{"type": "resize", "queue": "images-bad-progress"}""");
        var claimed = Assert.Single(await ClaimAsync("""{"worker": "py-3", "types": ["resize"], "queues": ["images-bad-progress"]}"""));

        using var beat = await PostAsync($"/tasks/{task.Id()}/heartbeat", $$"""{"leaseToken": "{{Token(claimed)}}", "progress": {{progress}}}""");

        Assert.Equal(HttpStatusCode.BadRequest, beat.StatusCode);
        Assert.Equal(field, (await beat.ReadJsonAsync()).GetProperty("field").GetString());
    }

    [Fact]
    public async Task Claim_WaitsForATask_AndAnswersAsSoonAsOneIsEnqueued()
    {
        var claim = ClaimAsync("""{"worker": "waiter", "types": ["thumbnail"], "waitSeconds": 20}""");
        await Task.Delay(100);
        Assert.False(claim.IsCompleted);

        var task = await _client.PostTaskAsync("""{"type": "thumbnail"}""");

        Assert.Equal(task.Id(), Assert.Single(await claim.WaitAsync(TimeSpan.FromSeconds(10))).Id());
    }

    [Fact]
    public async Task Fail_Retryable_IsScheduledForARetry_NotRetryable_Fails()
    {
        var first = await _client.PostTaskAsync("""{"type": "resize", "queue": "fail-api"}""");
        var second = await _client.PostTaskAsync("""{"type": "resize", "queue": "fail-api"}""");
        var claimed = await ClaimAsync("""{"worker": "w", "types": ["resize"], "queues": ["fail-api"], "max": 2}""");

        var retry = await PostAsync($"/tasks/{first.Id()}/fail", $$"""{"leaseToken": "{{Token(claimed.Single(c => c.Id() == first.Id()))}}", "error": "disk full"}""");
        var final = await PostAsync($"/tasks/{second.Id()}/fail", $$"""{"leaseToken": "{{Token(claimed.Single(c => c.Id() == second.Id()))}}", "error": "bad input", "retryable": false}""");

        var retried = await retry.ReadJsonAsync();
        Assert.Equal(("scheduled", true), (retried.State(), retried.TryGetProperty("runAt", out _)));
        Assert.Equal("failed", (await final.ReadJsonAsync()).State());
        var stored = await _client.GetTaskAsync(second.Id());
        Assert.Equal(("failed", "bad input"), (stored.State(), stored.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task BatchReport_RecordsEachOutcome_AndAnswersARefusalInItsPlace_AsTheSingleReportWould()
    {
        var ok = await _client.PostTaskAsync("""{"type": "resize", "queue": "batch-api"}""");
        var bad = await _client.PostTaskAsync("""{"type": "resize", "queue": "batch-api"}""");
        var claimed = await ClaimAsync("""{"worker": "batcher", "types": ["resize"], "queues": ["batch-api"], "max": 2}""");
        string TokenOf(long id) => Token(claimed.Single(c => c.Id() == id));

        using var response = await PostAsync("/workers/report", $$$"""
            {"reports": [
              {"id": {{{ok.Id()}}}, "leaseToken": "{{{TokenOf(ok.Id())}}}", "result": {"path": "/out/2.png"}},
              {"id": {{{bad.Id()}}}, "leaseToken": "{{{TokenOf(bad.Id())}}}", "error": "corrupt image", "retryable": false},
              {"id": 99999999, "leaseToken": "{{{TokenOf(ok.Id())}}}"},
              {"id": {{{ok.Id() + 1_000_000}}}, "leaseToken": "00000000000000ab.w", "error": "x"}
            ]}
            """);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reports = (await response.ReadJsonAsync()).GetProperty("reports").EnumerateArray().ToList();
        Assert.Equal([ok.Id(), bad.Id(), 99999999, ok.Id() + 1_000_000], reports.Select(r => r.Id()));
        Assert.Equal(("succeeded", "failed"), (reports[0].State(), reports[1].State()));
        var missing = reports[2].GetProperty("refused");
        Assert.Equal((404, "notFound"), (missing.GetProperty("status").GetInt32(), missing.GetProperty("reason").GetString()));
        Assert.Contains("No task has the id '99999999'", missing.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.False(reports[2].TryGetProperty("state", out _));
        var stored = await _client.GetTaskAsync(ok.Id());
        Assert.Equal(("succeeded", "/out/2.png"), (stored.State(), stored.GetProperty("result").GetProperty("path").GetString()));
        Assert.Equal(("failed", "corrupt image"), ((await _client.GetTaskAsync(bad.Id())).State(), (await _client.GetTaskAsync(bad.Id())).GetProperty("error").GetString()));
    }

    [Fact]
    public async Task BatchReport_WithALostLease_Answers409LeaseLostForThatTask_AndRecordsTheOthers()
    {
        var held = await _client.PostTaskAsync("""{"type": "resize", "queue": "batch-lost"}""");
        var other = await _client.PostTaskAsync("""{"type": "resize", "queue": "batch-lost"}""");
        var claimed = await ClaimAsync("""{"worker": "batcher", "types": ["resize"], "queues": ["batch-lost"], "max": 2}""");

        using var response = await PostAsync("/workers/report", $$"""
            {"reports": [
              {"id": {{held.Id()}}, "leaseToken": "{{Token(claimed.Single(c => c.Id() == held.Id()))}}"},
              {"id": {{other.Id()}}, "leaseToken": "00000000000000ab.w"}
            ]}
            """);

        var reports = (await response.ReadJsonAsync()).GetProperty("reports");
        Assert.Equal("succeeded", reports[0].State());
        var lost = reports[1].GetProperty("refused");
        Assert.Equal((409, "leaseLost", "running"), (lost.GetProperty("status").GetInt32(), lost.GetProperty("reason").GetString(), lost.GetProperty("state").GetString()));
        Assert.Equal("running", (await _client.GetTaskAsync(other.Id())).State());
    }

    [Fact]
    public async Task Report_AfterTheTaskFinished_Is409Finished()
    {
        var task = await _client.PostTaskAsync("""{"type": "resize", "queue": "finished-api"}""");
        var claimed = Assert.Single(await ClaimAsync("""{"worker": "w", "types": ["resize"], "queues": ["finished-api"]}"""));
        await PostAsync($"/tasks/{task.Id()}/complete", $$"""{"leaseToken": "{{Token(claimed)}}"}""");

        using var again = await PostAsync($"/tasks/{task.Id()}/complete", $$"""{"leaseToken": "{{Token(claimed)}}"}""");
        using var fail = await PostAsync($"/tasks/{task.Id()}/fail", $$"""{"leaseToken": "{{Token(claimed)}}", "error": "x"}""");

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        await AssertConflictAsync(fail, "finished", "succeeded", "has already succeeded under this lease");
    }

    [Fact]
    public async Task Stop_ReachesAWaitingHeartbeat_TheWorkersFailAcknowledgesIt_AndLaterReportsAre409Stopped()
    {
        var task = await _client.PostTaskAsync("""{"type": "resize", "queue": "stop-api"}""");
        var claimed = Assert.Single(await ClaimAsync("""{"worker": "w", "types": ["resize"], "queues": ["stop-api"], "leaseSeconds": 60}"""));
        var heartbeat = PostAsync($"/tasks/{task.Id()}/heartbeat", $$"""{"leaseToken": "{{Token(claimed)}}", "leaseSeconds": 60, "waitSeconds": 25}""");
        await Task.Delay(100);
        Assert.False(heartbeat.IsCompleted);

        var stop = _client.DeleteAsync(new Uri($"/tasks/{task.Id()}", UriKind.Relative));
        using var beat = await heartbeat.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True((await beat.ReadJsonAsync()).GetProperty("stopRequested").GetBoolean());
        using var ack = await PostAsync($"/tasks/{task.Id()}/fail", $$"""{"leaseToken": "{{Token(claimed)}}", "error": "stopped as asked"}""");
        using var stopped = await stop.WaitAsync(TimeSpan.FromSeconds(10));
        using var late = await PostAsync($"/tasks/{task.Id()}/complete", $$"""{"leaseToken": "{{Token(claimed)}}"}""");

        Assert.Equal("cancelled", (await ack.ReadJsonAsync()).State());
        Assert.Equal(HttpStatusCode.NoContent, stopped.StatusCode);
        await AssertConflictAsync(late, "stopped", "cancelled", "was stopped");
    }

    [Fact]
    public async Task LeaseNotRenewed_TheTaskIsTakenBack_AndTheLateCompleteIs409LeaseLost()
    {
        var task = await _client.PostTaskAsync("""{"type": "resize", "queue": "lost-api"}""");
        var claimed = Assert.Single(await ClaimAsync("""{"worker": "sleepy", "types": ["resize"], "queues": ["lost-api"], "leaseSeconds": 1}"""));

        await _client.WaitForStateAsync(task.Id(), "queued");
        using var late = await PostAsync($"/tasks/{task.Id()}/complete", $$"""{"leaseToken": "{{Token(claimed)}}"}""");
        using var beat = await PostAsync($"/tasks/{task.Id()}/heartbeat", $$"""{"leaseToken": "{{Token(claimed)}}"}""");

        await AssertConflictAsync(late, "leaseLost", "queued", "it expired and the task was taken back");
        await AssertConflictAsync(beat, "leaseLost", "queued", "it expired and the task was taken back");
        var stored = await _client.GetTaskAsync(task.Id());
        Assert.Equal((1, "interrupted: worker sleepy stopped renewing its lease"), (stored.GetProperty("attempt").GetInt32(), stored.GetProperty("errors")[0].GetProperty("error").GetString()));
    }

    public static TheoryData<string, string, int, string?, string> BadRequests => new()
    {
        { "/workers/claim", "", 400, null, "request body is empty" },
        { "/workers/claim", "not json", 400, null, "not valid JSON" },
        { "/workers/claim", "[]", 400, null, "must be a JSON object" },
        { "/workers/claim", """{"types": ["resize"]}""", 400, "worker", "worker is required" },
        { "/workers/claim", """{"worker": "w"}""", 400, "types", "types is required" },
        { "/workers/claim", """{"worker": "w", "types": "resize"}""", 400, "types", "must be a list of strings" },
        { "/workers/claim", """{"worker": "w", "types": []}""", 400, "types", "1 to 100 task types" },
        { "/workers/claim", """{"worker": "w", "types": ["demo"]}""", 400, "types", "run by this node's own handlers" },
        { "/workers/claim", """{"worker": "w", "types": ["other"]}""", 400, "types", "not declared for external workers" },
        { "/workers/claim", """{"worker": "w", "types": ["resize"], "queues": ["a b"]}""", 400, "queues", "queue may contain only" },
        { "/workers/claim", """{"worker": "w", "types": ["resize"], "max": 0}""", 400, "max", "max must be between 1 and 1000" },
        { "/workers/claim", """{"worker": "w", "types": ["resize"], "max": 1.5}""", 400, "max", "max must be an integer" },
        { "/workers/claim", """{"worker": "w", "types": ["resize"], "waitSeconds": 31}""", 400, "waitSeconds", "between 0 and 30" },
        { "/workers/claim", """{"worker": "w", "types": ["resize"], "waitSeconds": "soon"}""", 400, "waitSeconds", "number of seconds" },
        { "/workers/claim", """{"worker": "w", "types": ["resize"], "leaseSeconds": 0}""", 400, "leaseSeconds", "between 1 and 3600" },
        { "/workers/claim", """{"worker": "w", "types": ["resize"], "lease": 5}""", 400, "lease", "Unknown field 'lease'" },
        { "/workers/claim", """{"worker": "w", "worker": "v", "types": ["resize"]}""", 400, null, "appears twice" },
        { "/workers/claim", """{"worker": "\ud800", "types": ["resize"]}""", 400, null, "lone UTF-16 surrogate" },
        { "/tasks/1/heartbeat", "{}", 400, "leaseToken", "leaseToken is required" },
        { "/tasks/1/heartbeat", """{"leaseToken": 5}""", 400, "leaseToken", "must be a string" },
        { "/tasks/1/heartbeat", """{"leaseToken": "nope"}""", 400, "leaseToken", "the leaseToken a claim returned" },
        { "/tasks/1/heartbeat", """{"leaseToken": "00000000000000ab.w", "leaseSeconds": 10, "waitSeconds": 6}""", 400, "waitSeconds", "at most half of leaseSeconds" },
        { "/tasks/1/complete", """{"leaseToken": "00000000000000ab.w", "outcome": 1}""", 400, "outcome", "Unknown field 'outcome'" },
        { "/tasks/1/fail", """{"leaseToken": "00000000000000ab.w"}""", 400, "error", "error is required" },
        { "/tasks/1/fail", """{"leaseToken": "00000000000000ab.w", "error": "x", "retryable": "yes"}""", 400, "retryable", "true or false" },
        { "/workers/report", "{}", 400, "reports", "reports must be a list of 1 to 1000 objects" },
        { "/workers/report", """{"reports": []}""", 400, "reports", "reports must be a list of 1 to 1000 objects" },
        { "/workers/report", """{"reports": [5]}""", 400, "reports[0]", "reports[0] must be an object" },
        { "/workers/report", """{"reports": [{"id": 1}]}""", 400, "reports[0].leaseToken", "reports[0].leaseToken is required" },
        { "/workers/report", """{"reports": [{"id": "1", "leaseToken": "00000000000000ab.w"}]}""", 400, "reports[0].id", "must be the id of a task" },
        { "/workers/report", """{"reports": [{"id": 1, "leaseToken": "00000000000000ab.w", "outcome": 1}]}""", 400, "reports[0].outcome", "Unknown field 'reports[0].outcome'" },
        { "/workers/report", """{"reports": [{"id": 1, "leaseToken": "00000000000000ab.w", "result": 1, "error": "x"}]}""", 400, "reports[0].result", "both a result and an error" },
        { "/workers/report", """{"reports": [{"id": 1, "leaseToken": "00000000000000ab.w"}, {"id": 2, "leaseToken": "nope"}]}""", 400, "reports[1].leaseToken", "the leaseToken a claim returned" },
        { "/workers/report", """{"reports": [{"id": 1, "leaseToken": "00000000000000ab.w"}, {"id": 1, "leaseToken": "00000000000000ab.w"}]}""", 400, "reports[1].id", "reported twice" },
        { "/workers/report", """{"reports": [{"id": 1, "leaseToken": "00000000000000ab.w", "error": ""}]}""", 400, "reports[0].error", "non-empty string" },
        { "/tasks/abc/complete", """{"leaseToken": "00000000000000ab.w"}""", 404, null, "No task has the id 'abc'" },
        { "/tasks/99999999/complete", """{"leaseToken": "00000000000000ab.w"}""", 404, null, "No task has the id '99999999'" },
        { "/tasks/99999999/heartbeat", """{"leaseToken": "00000000000000ab.w"}""", 404, null, "No task has the id '99999999'" },
        { "/tasks/99999999/fail", """{"leaseToken": "00000000000000ab.w", "error": "x"}""", 404, null, "No task has the id '99999999'" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadInput_IsA4xxProblemNamingTheField_NeverA5xx(string path, string body, int status, string? field, string message)
    {
        using var response = await PostAsync(path, body);

        Assert.Equal((HttpStatusCode)status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.ReadJsonAsync();
        Assert.Contains(message, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(field, problem.TryGetProperty("field", out var named) ? named.GetString() : null);
    }

    [Fact]
    public async Task Report_WithAnotherLeasesToken_Is409LeaseLost()
    {
        var task = await _client.PostTaskAsync("""{"type": "resize", "queue": "token-api"}""");
        Assert.Single(await ClaimAsync("""{"worker": "w", "types": ["resize"], "queues": ["token-api"]}"""));

        using var response = await PostAsync($"/tasks/{task.Id()}/complete", """{"leaseToken": "00000000000000ab.w"}""");

        await AssertConflictAsync(response, "leaseLost", "running", "now runs under another lease");
    }

    [Fact]
    public async Task DashboardHandlers_ListTheDeclaredExternalTypes()
    {
        var handlers = await _client.GetFromJsonAsync<JsonElement>(new Uri("/dashboard/api/handlers", UriKind.Relative));

        Assert.Equal(["resize", "thumbnail"], handlers.GetProperty("externalTypes").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(["demo", "http"], handlers.GetProperty("types").EnumerateArray().Select(t => t.GetString()));
    }

    private async Task<List<JsonElement>> ClaimAsync(string body)
    {
        using var response = await PostAsync("/workers/claim", body);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"claim answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return [.. (await response.ReadJsonAsync()).GetProperty("tasks").EnumerateArray()];
    }

    private Task<HttpResponseMessage> PostAsync(string path, string body) =>
        _client.PostAsync(new Uri(path, UriKind.Relative), new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

    private static string Token(JsonElement claimed) => claimed.GetProperty("leaseToken").GetString()!;

    private static async Task AssertConflictAsync(HttpResponseMessage response, string reason, string state, string message)
    {
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.ReadJsonAsync();
        Assert.Equal((reason, state), (problem.GetProperty("reason").GetString(), problem.GetProperty("state").GetString()));
        Assert.Contains(message, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
