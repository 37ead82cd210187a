using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using TaskSystem.ExternalWorkers;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.ExternalWorkers;

/// <summary>
/// The external worker protocol through the engine, on every store: long-poll claims woken by the engine's signals,
/// heartbeats that carry stops, fenced reports, lease expiry and rescue. Each store gets a subclass that says where
/// the database is.
/// </summary>
public abstract class ExternalWorkerContractTests : IAsyncLifetime
{
    protected const string External = "resize";

    /// <summary>Starts a host on this test's database.</summary>
    protected abstract Task<EngineHost> StartHostAsync(Action<TaskSystemBuilder> handlers, Action<TaskSystemOptions>? configure = null, TimeProvider? time = null);

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync() => Task.CompletedTask;

    private Task<EngineHost> StartAsync(Action<TaskSystemOptions>? configure = null, TimeProvider? time = null, Action<TaskSystemBuilder>? handlers = null) =>
        StartHostAsync(handlers ?? (_ => { }), o =>
        {
            o.ExternalTypes = [External];
            configure?.Invoke(o);
        }, time);

    private static ExternalTasks Workers(EngineHost host) => host.Host.Services.GetRequiredService<ExternalTasks>();

    private static WorkerClaim Claim(string worker = "w1", int max = 10, double waitSeconds = 0, double leaseSeconds = 30, IReadOnlyList<string>? queues = null) =>
        new(worker, [External], queues, max, TimeSpan.FromSeconds(waitSeconds), TimeSpan.FromSeconds(leaseSeconds));

    [Fact]
    public async Task Claim_LongPoll_AnswersOnTheEnqueuesWakeSignal_NotThePoll()
    {
        await using var host = await StartAsync(o => o.PollInterval = TimeSpan.FromHours(1));
        var claim = Workers(host).ClaimAsync(Claim(waitSeconds: 30), CancellationToken.None);
        await Task.Delay(50);
        Assert.False(claim.IsCompleted);

        var task = await host.EnqueueAsync(External, new { width = 100 });

        var claimed = Assert.Single(await claim.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal((task.Id, External, 1, "worker:w1"), (claimed.Task.Id, claimed.Task.Type, claimed.Task.Attempt, claimed.Task.Node));
        Assert.Equal("""{"width":100}""", claimed.Task.PayloadJson.Replace(" ", "", StringComparison.Ordinal));
        Assert.Equal(claimed.Task.ClaimId, claimed.Lease.ClaimId);
    }

    [Fact]
    public async Task Claim_LongPoll_EndsEmptyWhenTheWaitRunsOut_OrTheCallerLeaves()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await StartAsync(time: time);
        var waited = Workers(host).ClaimAsync(Claim(waitSeconds: 5), CancellationToken.None);
        using var leaving = new CancellationTokenSource();
        var left = Workers(host).ClaimAsync(Claim(waitSeconds: 30), leaving.Token);

        await time.AdvanceUntilAsync(TimeSpan.FromSeconds(1), () => waited.IsCompleted, "the 5 s wait to end");
        await leaving.CancelAsync();

        Assert.Empty(await waited);
        Assert.Empty(await left.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Claim_ADelayedTask_IsAnsweredWhenItComesDue()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await StartAsync(o => o.PollInterval = TimeSpan.FromHours(1), time);
        var task = await host.EnqueueAsync(External, change: r => r with { RunAt = time.GetUtcNow().AddSeconds(10) });
        var claim = Workers(host).ClaimAsync(Claim(waitSeconds: 30), CancellationToken.None);

        await time.AdvanceUntilAsync(TimeSpan.FromSeconds(1), () => claim.IsCompleted, "the claim to answer once the task is due");

        Assert.Equal(task.Id, Assert.Single(await claim).Task.Id);
    }

    [Fact]
    public async Task InProcessDispatcher_NeverClaimsExternalTypes()
    {
        var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await StartAsync(handlers: b => b.AddHandler("local", (_, _) => { ran.TrySetResult(); return Task.CompletedTask; }));
        var external = await host.EnqueueAsync(External);
        var local = await host.EnqueueAsync("local");

        await ran.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await host.WaitForStateAsync(local.Id, TaskState.Succeeded);

        Assert.Equal(TaskState.Queued, (await host.Manager.GetAsync(external.Id))!.State);
        var error = await Assert.ThrowsAsync<TaskValidationException>(() => Workers(host).ClaimAsync(new WorkerClaim("w1", ["local"], null, 1, TimeSpan.Zero, null), CancellationToken.None));
        Assert.Equal("types", error.Field);
    }

    [Fact]
    public async Task Enqueue_OfAnUndeclaredType_IsRefused_UnlessAnyTypeIsDeclared()
    {
        await using (var host = await StartAsync())
        {
            var error = await Assert.ThrowsAsync<TaskValidationException>(() => host.EnqueueAsync("thumbnail"));
            Assert.Contains("types for external workers (TaskSystem:ExternalTypes): resize", error.Message, StringComparison.Ordinal);
        }

        await using var any = await StartAsync(o => o.ExternalTypes = ["*"]);
        var task = await any.EnqueueAsync("thumbnail");
        Assert.Equal(task.Id, Assert.Single(await Workers(any).ClaimAsync(new WorkerClaim("w1", ["thumbnail"], null, 1, TimeSpan.Zero, null), CancellationToken.None)).Task.Id);
    }

    [Fact]
    public async Task Complete_UnderTheLease_Succeeds_ARepeatIsAnsweredTheSame_AndAFailAfterIsRefused()
    {
        await using var host = await StartAsync();
        var task = await host.EnqueueAsync(External);
        var claimed = Assert.Single(await Workers(host).ClaimAsync(Claim(), CancellationToken.None));
        var token = claimed.Lease.ToString();

        var first = await Workers(host).CompleteAsync(task.Id, token, """{"size":42}""", CancellationToken.None);
        var again = await Workers(host).CompleteAsync(task.Id, token, """{"size":42}""", CancellationToken.None);
        var fail = await Workers(host).FailAsync(task.Id, token, "too late", retryable: true, CancellationToken.None);

        Assert.Equal(TaskState.Succeeded, first.State);
        Assert.Equal(TaskState.Succeeded, again.State);
        Assert.Equal(LeaseRefusal.Finished, fail.Refused!.Reason);
        var stored = (await host.Manager.GetAsync(task.Id))!;
        Assert.Equal((TaskState.Succeeded, 42), (stored.State, stored.Result!.Value.GetProperty("size").GetInt32()));
    }

    [Fact]
    public async Task Report_ManyOutcomesAtOnce_EachIsFencedByItsOwnLease_AndAnsweredInItsPlace()
    {
        await using var host = await StartAsync(o => o.DefaultMaxAttempts = 2);
        var tasks = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            tasks.Add((await host.EnqueueAsync(External)).Id);
        }

        var claimed = (await Workers(host).ClaimAsync(Claim(max: 5), CancellationToken.None)).ToDictionary(c => c.Task.Id, c => c.Lease.ToString());
        var stop = host.Manager.StopAsync(tasks[3]);
        await Eventually.Until(async () => (await host.Manager.GetAsync(tasks[3]))!.StopRequested, requested => requested, because: "the stop to be recorded");

        var answers = await Workers(host).ReportAsync(
        [
            WorkerReport.Success(tasks[0], claimed[tasks[0]], """{"n":0}"""),
            WorkerReport.Failure(tasks[1], claimed[tasks[1]], "disk full", retryable: true),
            WorkerReport.Failure(tasks[2], claimed[tasks[2]], "bad input", retryable: false),
            WorkerReport.Failure(tasks[3], claimed[tasks[3]], "stopping", retryable: true),
            WorkerReport.Success(tasks[4], "00000000000000ab.w1", null),
            WorkerReport.Success(99_999_999, claimed[tasks[0]], null),
        ], CancellationToken.None);

        Assert.Equal(
            [TaskState.Succeeded, TaskState.Scheduled, TaskState.Failed, TaskState.Cancelled, null, null],
            answers.Select(a => a.State));
        Assert.NotNull(answers[1].RunAt);
        Assert.Equal((LeaseRefusal.LeaseLost, LeaseRefusal.NotFound), (answers[4].Refused!.Reason, answers[5].Refused!.Reason));
        Assert.Equal(StopOutcome.Cancelled, (await stop.WaitAsync(TimeSpan.FromSeconds(10))).Outcome);
        Assert.Equal(0, (await host.Manager.GetAsync(tasks[0]))!.Result!.Value.GetProperty("n").GetInt32());
        Assert.Equal(TaskState.Running, (await host.Manager.GetAsync(tasks[4]))!.State);

        // A report sent again after its answer was lost is answered the same; nothing is written twice.
        var again = await Workers(host).ReportAsync([WorkerReport.Success(tasks[0], claimed[tasks[0]], """{"n":1}""")], CancellationToken.None);
        Assert.Equal(TaskState.Succeeded, Assert.Single(again).State);
        Assert.Equal(0, (await host.Manager.GetAsync(tasks[0]))!.Result!.Value.GetProperty("n").GetInt32());
    }

    [Fact]
    public async Task Report_WithOneInvalidOutcome_RecordsNothing_AndNamesItsPlace()
    {
        await using var host = await StartAsync();
        var task = await host.EnqueueAsync(External);
        var claimed = Assert.Single(await Workers(host).ClaimAsync(Claim(), CancellationToken.None));
        var token = claimed.Lease.ToString();

        var badToken = await Assert.ThrowsAsync<TaskValidationException>(() => Workers(host).ReportAsync(
            [WorkerReport.Success(task.Id, token, null), WorkerReport.Success(task.Id + 1, "nope", null)], CancellationToken.None));
        var twice = await Assert.ThrowsAsync<TaskValidationException>(() => Workers(host).ReportAsync(
            [WorkerReport.Success(task.Id, token, null), WorkerReport.Failure(task.Id, token, "x", retryable: true)], CancellationToken.None));
        var empty = await Assert.ThrowsAsync<TaskValidationException>(() => Workers(host).ReportAsync([], CancellationToken.None));

        Assert.Equal((1, "leaseToken"), (badToken.Index, badToken.Field));
        Assert.Equal((1, "id"), (twice.Index, twice.Field));
        Assert.Contains("reported twice", twice.Message, StringComparison.Ordinal);
        Assert.Equal("reports", empty.Field);
        Assert.Equal(TaskState.Running, (await host.Manager.GetAsync(task.Id))!.State);
    }

    [Fact]
    public async Task Fail_Retryable_GoesThroughBackoff_ThenFailsWhenAttemptsRunOut_OrAtOnceWhenNotRetryable()
    {
        await using var host = await StartAsync(o => o.DefaultMaxAttempts = 2);
        var task = await host.EnqueueAsync(External);
        var other = await host.EnqueueAsync(External);
        var first = await Workers(host).ClaimAsync(Claim(), CancellationToken.None);

        var retry = await Workers(host).FailAsync(task.Id, first.Single(c => c.Task.Id == task.Id).Lease.ToString(), "disk full", retryable: true, CancellationToken.None);
        var final = await Workers(host).FailAsync(other.Id, first.Single(c => c.Task.Id == other.Id).Lease.ToString(), "bad input", retryable: false, CancellationToken.None);
        var second = Assert.Single(await Workers(host).ClaimAsync(Claim(waitSeconds: 10), CancellationToken.None));
        var last = await Workers(host).FailAsync(task.Id, second.Lease.ToString(), "disk still full", retryable: true, CancellationToken.None);

        Assert.Equal(TaskState.Scheduled, retry.State);
        Assert.NotNull(retry.RunAt);
        Assert.Equal(TaskState.Failed, final.State);
        Assert.Equal((task.Id, 2), (second.Task.Id, second.Task.Attempt));
        Assert.Equal(TaskState.Failed, last.State);
        var stored = (await host.Manager.GetAsync(task.Id))!;
        Assert.Equal(["disk full", "disk still full"], stored.Errors.Select(e => e.Error));
        Assert.Equal("bad input", (await host.Manager.GetAsync(other.Id))!.Error);
    }

    [Fact]
    public async Task Stop_ReachesALongPollingHeartbeatAtOnce_AndTheWorkersFailEndsItCancelled()
    {
        await using var host = await StartAsync();
        var task = await host.EnqueueAsync(External);
        var claimed = Assert.Single(await Workers(host).ClaimAsync(Claim(), CancellationToken.None));
        var token = claimed.Lease.ToString();
        var heartbeat = Workers(host).HeartbeatAsync(task.Id, token, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(15), CancellationToken.None);
        await Task.Delay(50);
        Assert.False(heartbeat.IsCompleted);

        var stop = host.Manager.StopAsync(task.Id);
        var answer = await heartbeat.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(answer.Lease!.StopRequested);
        Assert.False(stop.IsCompleted);
        var fail = await Workers(host).FailAsync(task.Id, token, "stopped by the user", retryable: true, CancellationToken.None);

        Assert.Equal(TaskState.Cancelled, fail.State);
        Assert.Equal(StopOutcome.Cancelled, (await stop.WaitAsync(TimeSpan.FromSeconds(10))).Outcome);
        var late = await Workers(host).CompleteAsync(task.Id, token, null, CancellationToken.None);
        Assert.Equal(LeaseRefusal.Stopped, late.Refused!.Reason);
        Assert.Equal(LeaseRefusal.Stopped, (await Workers(host).HeartbeatAsync(task.Id, token, null, null, CancellationToken.None)).Refused!.Reason);
    }

    [Fact]
    public async Task LeaseExpiry_TheTaskRunsAgain_AndTheOldHoldersLateReportNeverOverwritesTheNewOutcome()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await StartAsync(o => o.RescueInterval = TimeSpan.FromSeconds(1), time);
        var task = await host.EnqueueAsync(External);
        var lost = Assert.Single(await Workers(host).ClaimAsync(Claim(worker: "dies", leaseSeconds: 5), CancellationToken.None));
        Assert.NotNull((await Workers(host).HeartbeatAsync(task.Id, lost.Lease.ToString(), TimeSpan.FromSeconds(5), null, CancellationToken.None)).Lease);

        await time.AdvanceUntilAsync(TimeSpan.FromSeconds(1), async () => (await host.Manager.GetAsync(task.Id))!.State == TaskState.Queued, "the rescuer to take the task back");
        var heartbeat = await Workers(host).HeartbeatAsync(task.Id, lost.Lease.ToString(), null, null, CancellationToken.None);
        var again = Assert.Single(await Workers(host).ClaimAsync(Claim(worker: "lives"), CancellationToken.None));
        var winner = await Workers(host).CompleteAsync(task.Id, again.Lease.ToString(), "\"from lives\"", CancellationToken.None);
        var late = await Workers(host).CompleteAsync(task.Id, lost.Lease.ToString(), "\"from dies\"", CancellationToken.None);

        Assert.Equal(LeaseRefusal.LeaseLost, heartbeat.Refused!.Reason);
        Assert.Equal(2, again.Task.Attempt);
        Assert.Equal(TaskState.Succeeded, winner.State);
        Assert.Equal((LeaseRefusal.Finished, TaskState.Succeeded), (late.Refused!.Reason, late.Refused.State));
        var stored = (await host.Manager.GetAsync(task.Id))!;
        Assert.Equal(("from lives", "worker:lives", 2), (stored.Result!.Value.GetString(), stored.Node, stored.Attempt));
        Assert.Equal("interrupted: worker dies stopped renewing its lease", Assert.Single(stored.Errors).Error);
    }

    [Fact]
    public async Task Heartbeat_RenewsTheLease_SoTheRescuerLeavesTheTask()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await StartAsync(o => o.RescueInterval = TimeSpan.FromSeconds(1), time);
        var task = await host.EnqueueAsync(External);
        var claimed = Assert.Single(await Workers(host).ClaimAsync(Claim(leaseSeconds: 4), CancellationToken.None));

        for (var second = 0; second < 12; second++)
        {
            var beat = await Workers(host).HeartbeatAsync(task.Id, claimed.Lease.ToString(), TimeSpan.FromSeconds(4), null, CancellationToken.None);
            Assert.Equal(time.GetUtcNow().AddSeconds(4), beat.Lease!.ExpiresAt, TimeSpan.FromMilliseconds(1));
            time.Advance(TimeSpan.FromSeconds(1));
            await host.Store.TasksRescueExternalAsync(new TaskSystem.Storage.TasksRescueExternalParams(time.GetUtcNow(), 100), CancellationToken.None);
        }

        Assert.Equal(TaskState.Succeeded, (await Workers(host).CompleteAsync(task.Id, claimed.Lease.ToString(), null, CancellationToken.None)).State);
    }

    [Theory]
    [InlineData("bad name", "resize", 1, 1, 30, "worker")]
    [InlineData("w1", "undeclared", 1, 1, 30, "types")]
    [InlineData("w1", "resize", 0, 1, 30, "max")]
    [InlineData("w1", "resize", 1001, 1, 30, "max")]
    [InlineData("w1", "resize", 1, 31, 30, "waitSeconds")]
    [InlineData("w1", "resize", 1, -1, 30, "waitSeconds")]
    [InlineData("w1", "resize", 1, 1, 0.5, "leaseSeconds")]
    [InlineData("w1", "resize", 1, 1, 3601, "leaseSeconds")]
    public async Task Claim_OutOfBounds_IsRefusedNamingTheField(string worker, string type, int max, double waitSeconds, double leaseSeconds, string field)
    {
        await using var host = await StartAsync();

        var error = await Assert.ThrowsAsync<TaskValidationException>(() =>
            Workers(host).ClaimAsync(new WorkerClaim(worker, [type], null, max, TimeSpan.FromSeconds(waitSeconds), TimeSpan.FromSeconds(leaseSeconds)), CancellationToken.None));

        Assert.Equal(field, error.Field);
    }

    [Fact]
    public async Task Heartbeat_ThatWouldWaitPastHalfItsLease_OrABadToken_IsRefusedNamingTheField()
    {
        await using var host = await StartAsync();
        var task = await host.EnqueueAsync(External);
        var claimed = Assert.Single(await Workers(host).ClaimAsync(Claim(), CancellationToken.None));

        var wait = await Assert.ThrowsAsync<TaskValidationException>(() =>
            Workers(host).HeartbeatAsync(task.Id, claimed.Lease.ToString(), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(6), CancellationToken.None));
        var token = await Assert.ThrowsAsync<TaskValidationException>(() => Workers(host).HeartbeatAsync(task.Id, "123", null, null, CancellationToken.None));

        Assert.Equal(("waitSeconds", "leaseToken"), (wait.Field, token.Field));
    }
}
