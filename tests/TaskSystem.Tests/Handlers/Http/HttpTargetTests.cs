using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TaskSystem.Tests.Support;
using TaskSystem.TestSupport;

namespace TaskSystem.Tests.Handlers.Http;

/// <summary>The http task type against a real receiver (Kestrel on loopback): outcomes, retries, stop and timeouts.</summary>
public sealed class HttpTargetTests
{
    [Fact]
    public async Task Answer2xx_Succeeds_RecordingStatusDurationContentTypeLengthAndJsonBody()
    {
        await using var receiver = await TargetReceiver.StartAsync((context, _) => context.Answer(201, """{"accepted": true, "n": [1, 2]}"""));
        await using var host = await HttpTaskHost.StartAsync(receiver);

        var task = await host.EnqueueHttpAsync($$"""{"url": "{{receiver.Url("hooks/a")}}", "body": {"user": 42} }""");

        var done = await host.WaitForStateAsync(task.Id, TaskState.Succeeded);
        var result = done.Result!.Value;
        Assert.Equal(201, result.GetProperty("status").GetInt32());
        Assert.True(result.GetProperty("durationMs").GetDouble() > 0);
        Assert.Equal("application/json", result.GetProperty("contentType").GetString());
        Assert.Equal(31, result.GetProperty("contentLength").GetInt64());
        Assert.Equal("""{"accepted": true, "n": [1, 2]}""", result.GetProperty("body").GetRawText());
        Assert.False(result.GetProperty("bodyTruncated").GetBoolean());
        var request = Assert.Single(receiver.Requests);
        Assert.Equal(("POST", "/hooks/a"), (request.Method, request.PathAndQuery));
    }

    [Fact]
    public async Task TextAnswer_IsRecordedAsText_AndALongOneOnlyItsFirst64KiB()
    {
        var big = new string('x', 200_000);
        await using var receiver = await TargetReceiver.StartAsync((context, request) =>
            request.PathAndQuery == "/big" ? context.Answer(200, big, "text/plain") : context.Answer(200, "plain words", "text/plain; charset=utf-8"));
        await using var host = await HttpTaskHost.StartAsync(receiver);

        var small = await host.EnqueueHttpAsync($$"""{"url": "{{receiver.Url("small")}}", "method": "GET"}""");
        var large = await host.EnqueueHttpAsync($$"""{"url": "{{receiver.Url("big")}}", "method": "GET"}""");

        var smallResult = (await host.WaitForStateAsync(small.Id, TaskState.Succeeded)).Result!.Value;
        Assert.Equal("plain words", smallResult.GetProperty("body").GetString());
        var largeResult = (await host.WaitForStateAsync(large.Id, TaskState.Succeeded)).Result!.Value;
        Assert.Equal(64 * 1024, largeResult.GetProperty("body").GetString()!.Length);
        Assert.True(largeResult.GetProperty("bodyTruncated").GetBoolean());
        Assert.Equal(JsonValueKind.Null, largeResult.GetProperty("contentLength").ValueKind); // sent in chunks, without a length
    }

    [Fact]
    public async Task AnswerBeyondTheResultLimits_StillSucceeds_DeepJsonAsText_AndATooLargeBodyLeftOut()
    {
        await using var receiver = await TargetReceiver.StartAsync((context, request) => request.PathAndQuery == "/deep"
            ? context.Answer(200, "[[[[[[1]]]]]]")
            : context.Answer(200, "\"" + new string('y', 5000) + "\""));
        await using var host = await HttpTaskHost.StartAsync(receiver, options: o => { o.MaxJsonDepth = 5; o.MaxPayloadBytes = 2000; });

        var deep = await host.EnqueueHttpAsync($$"""{"url": "{{receiver.Url("deep")}}"}""", maxAttempts: 1);
        var large = await host.EnqueueHttpAsync($$"""{"url": "{{receiver.Url("large")}}"}""", maxAttempts: 1);

        var deepResult = (await host.WaitForStateAsync(deep.Id, TaskState.Succeeded)).Result!.Value;
        Assert.Equal("[[[[[[1]]]]]]", deepResult.GetProperty("body").GetString());
        var largeResult = (await host.WaitForStateAsync(large.Id, TaskState.Succeeded)).Result!.Value;
        Assert.Equal(JsonValueKind.Null, largeResult.GetProperty("body").ValueKind);
        Assert.Contains("the limit is 2000 (TaskSystem:MaxPayloadBytes)", largeResult.GetProperty("bodyOmitted").GetString(), StringComparison.Ordinal);
        Assert.Equal(200, largeResult.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Answer503WithRetryAfter_RetriesWhenTheReceiverSaid_ThenSucceeds()
    {
        // The backoff alone would retry after 20 to 30 ms.
        var (done, requests) = await HttpTaskHost.RunRetryAfterAsync(503, "1", "busy, come back later", retryMaxDelay: TimeSpan.FromSeconds(30));

        Assert.Equal(2, done.Attempt);
        Assert.Contains("answered 503 Service Unavailable: busy, come back later", Assert.Single(done.Errors).Error, StringComparison.Ordinal);
        Assert.Equal(2, requests.Count);
        Assert.InRange(requests[1].At - requests[0].At, TimeSpan.FromSeconds(0.95), TimeSpan.FromSeconds(30));
    }

    [Theory]
    [InlineData(408)]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(502)]
    public async Task RetryableAnswer_IsRetriedWithTheBackoff_UntilAttemptsRunOut(int status)
    {
        await using var receiver = await TargetReceiver.StartAsync((context, _) => context.Answer(status, "nope", "text/plain"));
        await using var host = await HttpTaskHost.StartAsync(receiver);

        var task = await host.EnqueueHttpAsync($$"""{"url": "{{receiver.Url("hook")}}"}""", maxAttempts: 3);

        var failed = await host.WaitForStateAsync(task.Id, TaskState.Failed);
        Assert.Equal(3, failed.Attempt);
        Assert.Equal(3, receiver.Requests.Count);
        Assert.Contains($"answered {status}", failed.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(404)]
    [InlineData(422)]
    public async Task Answer4xx_FailsTheTaskAtOnce_WithTheStatusAndTheBodysStart(int status)
    {
        await using var receiver = await TargetReceiver.StartAsync((context, _) => context.Answer(status, "no such hook\nhere" + new string('.', 5000), "text/plain"));
        await using var host = await HttpTaskHost.StartAsync(receiver);

        var task = await host.EnqueueHttpAsync($$"""{"url": "{{receiver.Url("missing")}}"}""", maxAttempts: 5);

        var failed = await host.WaitForStateAsync(task.Id, TaskState.Failed);
        Assert.Equal(1, failed.Attempt);
        Assert.Single(receiver.Requests);
        Assert.StartsWith($"POST {receiver.Url("missing")} answered {status} ", failed.Error, StringComparison.Ordinal);
        Assert.Contains(": no such hook here...", failed.Error, StringComparison.Ordinal);
        Assert.InRange(failed.Error!.Length, 100, 700);
    }

    [Fact]
    public async Task NoAnswerWithinTimeoutSeconds_FailsTheAttempt_AbortingTheRequest()
    {
        await using var receiver = await TargetReceiver.StartAsync((context, _) => Task.Delay(Timeout.Infinite, context.RequestAborted));
        await using var host = await HttpTaskHost.StartAsync(receiver);

        var task = await host.EnqueueHttpAsync($$"""{"url": "{{receiver.Url("slow")}}", "timeoutSeconds": 0.3}""", maxAttempts: 2);

        var failed = await host.WaitForStateAsync(task.Id, TaskState.Failed);
        Assert.Equal(2, failed.Attempt);
        Assert.All(failed.Errors, e => Assert.Equal($"POST {receiver.Url("slow")} did not answer within 0.3 s (payload.timeoutSeconds).", e.Error));
        await Task.WhenAll(receiver.Requests.Select(r => r.Aborted)).WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task TimeoutSeconds_CoversTheBodyToo_ATargetThatAnswersAndThenStallsFailsTheAttempt()
    {
        await using var receiver = await TargetReceiver.StartAsync(async (context, _) =>
        {
            // The status and the first bytes at once, the rest never.
            context.Response.StatusCode = 200;
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync("the first part of a long answer", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        });
        await using var host = await HttpTaskHost.StartAsync(receiver);

        var task = await host.EnqueueHttpAsync($$"""{"url": "{{receiver.Url("stalls")}}", "timeoutSeconds": 0.5}""", maxAttempts: 1);

        var failed = await host.WaitForStateAsync(task.Id, TaskState.Failed);
        Assert.Equal($"POST {receiver.Url("stalls")} did not answer within 0.5 s (payload.timeoutSeconds).", failed.Error);
        await Assert.Single(receiver.Requests).Aborted.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task AttemptTimeout_CoversTheWholeRequest()
    {
        await using var receiver = await TargetReceiver.StartAsync((context, _) => Task.Delay(Timeout.Infinite, context.RequestAborted));
        await using var host = await HttpTaskHost.StartAsync(receiver);

        var task = await host.EnqueueHttpAsync($$"""{"url": "{{receiver.Url("slow")}}"}""", maxAttempts: 1, timeout: TimeSpan.FromMilliseconds(300));

        var failed = await host.WaitForStateAsync(task.Id, TaskState.Failed);
        Assert.StartsWith("timed out after", failed.Error, StringComparison.Ordinal);
        await Assert.Single(receiver.Requests).Aborted.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Stop_AbortsTheRequestInFlight_WithinMilliseconds()
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var receiver = await TargetReceiver.StartAsync((context, _) =>
        {
            arrived.TrySetResult();
            return Task.Delay(Timeout.Infinite, context.RequestAborted);
        });

        // A grace period far longer than the bound below: the stop must come from the aborted request, not abandonment.
        await using var host = await HttpTaskHost.StartAsync(receiver, options: o => o.StopGracePeriod = TimeSpan.FromSeconds(30));
        var task = await host.EnqueueHttpAsync($$"""{"url": "{{receiver.Url("slow")}}"}""");
        await arrived.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var clock = Stopwatch.StartNew();
        var stopped = await host.Manager.StopAsync(task.Id);
        var elapsed = clock.Elapsed;

        Assert.Equal((StopOutcome.Cancelled, TaskState.Cancelled), (stopped.Outcome, stopped.Task!.State));
        Assert.Equal("stopped by request", stopped.Task.Error);
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"the stop took {elapsed.TotalMilliseconds} ms");
        await Assert.Single(receiver.Requests).Aborted.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task ConnectionRefused_IsANetworkError_RetriedUntilAttemptsRunOut()
    {
        var closed = new Uri($"http://127.0.0.1:{LoopbackPort.Free()}/");
        await using var host = await EngineHost.StartAsync(b => b.AddHttpTargets(o => { o.AllowedTargets.Add(closed.AbsoluteUri); o.AllowPrivateNetworks = true; }));

        var task = await host.EnqueueHttpAsync($$"""{"url": "{{closed}}hook"}""", maxAttempts: 2);

        var failed = await host.WaitForStateAsync(task.Id, TaskState.Failed);
        Assert.Equal(2, failed.Attempt);
        Assert.StartsWith($"POST {closed}hook failed: ", failed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryRequest_CarriesTheTaskIdAttemptIdempotencyKey_TheCallersHeaders_AndTheExactBody()
    {
        await using var receiver = await TargetReceiver.StartAsync((context, request) =>
            context.Answer(request.Header("TaskSystem-Attempt") == "1" ? 500 : 200));
        await using var host = await HttpTaskHost.StartAsync(receiver);
        const string Body = """{"b":  "é ü \u00e9",   "n": [1,2 , 3.50]}""";

        var task = await host.EnqueueHttpAsync($$"""
            {"url": "{{receiver.Url("hooks/x?y=1")}}", "method": "put",
             "headers": {"Authorization": "Bearer abc", "X-Trace": "t-1", "Content-Type": "application/vnd.example+json"},
             "body": {{Body}}}
            """);

        await host.WaitForStateAsync(task.Id, TaskState.Succeeded);
        var requests = receiver.Requests;
        Assert.Equal(2, requests.Count);
        for (var i = 0; i < 2; i++)
        {
            var request = requests[i];
            Assert.Equal(("PUT", "/hooks/x?y=1"), (request.Method, request.PathAndQuery));
            Assert.Equal(task.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), request.Header("TaskSystem-Task-Id"));
            Assert.Equal(task.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), request.Header("Idempotency-Key"));
            Assert.Equal((i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), request.Header("TaskSystem-Attempt"));
            Assert.Equal(("Bearer abc", "t-1", "application/vnd.example+json"), (request.Header("Authorization"), request.Header("X-Trace"), request.Header("Content-Type")));
            Assert.Equal("TaskSystem", request.Header("User-Agent"));
            Assert.Equal(Body, Encoding.UTF8.GetString(request.Body));
            Assert.Null(request.Header("TaskSystem-Signature"));
        }
    }

    [Fact]
    public async Task TextBody_IsSentAsItsText_WithATextContentType()
    {
        await using var receiver = await TargetReceiver.StartAsync((context, _) => context.Answer(204));
        await using var host = await HttpTaskHost.StartAsync(receiver);

        var task = await host.EnqueueHttpAsync($$"""{"url": "{{receiver.Url("hook")}}", "body": "line 1\nline \"2\""}""");

        var result = (await host.WaitForStateAsync(task.Id, TaskState.Succeeded)).Result!.Value;
        Assert.Equal(JsonValueKind.Null, result.GetProperty("body").ValueKind);
        var request = Assert.Single(receiver.Requests);
        Assert.Equal("line 1\nline \"2\"", Encoding.UTF8.GetString(request.Body));
        Assert.Equal("text/plain; charset=utf-8", request.Header("Content-Type"));
    }

    [Fact]
    public async Task AllowedTargetsChangedSinceEnqueue_FailsTheTaskAtOnce_WithoutARequest()
    {
        await using var receiver = await TargetReceiver.StartAsync((context, _) => context.Answer(200));
        using var directory = new TempDirectory();
        TaskInfo task;
        await using (var before = await EngineHost.StartAsync(b => b.AddHttpTargets(o => { o.AllowedTargets.Add(receiver.BaseAddress.AbsoluteUri); o.AllowPrivateNetworks = true; }), directory: directory))
        {
            // Due a moment later, when this node is gone and the next one, with other settings, runs it.
            using var payload = JsonDocument.Parse($$"""{"url": "{{receiver.Url("hook")}}"}""");
            task = await before.Manager.EnqueueAsync(new TaskRequest("http") { Payload = payload.RootElement.Clone(), MaxAttempts = 5, RunAt = DateTimeOffset.UtcNow.AddSeconds(1) });
            await before.StopAsync();
        }

        await using var after = await EngineHost.StartAsync(b => b.AddHttpTargets(o => { o.AllowedTargets.Add("https://elsewhere.example/"); o.AllowPrivateNetworks = true; }), directory: directory);

        var failed = await after.WaitForStateAsync(task.Id, TaskState.Failed);
        Assert.Equal(1, failed.Attempt);
        Assert.Contains("is not under any of TaskSystem:Http:AllowedTargets", failed.Error, StringComparison.Ordinal);
        Assert.Empty(receiver.Requests);
    }
}
