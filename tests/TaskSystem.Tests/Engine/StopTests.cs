using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using TaskSystem.Engine;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Engine;

/// <summary>Stopping tasks: at once, durably, never retried; a handler that ignores it is abandoned.</summary>
public sealed class StopTests
{
    [Fact]
    public async Task Stop_QueuedTask_IsCancelledAndNeverStarts()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new HashSet<long>();
        await using var host = await EngineHost.StartAsync(
            b => b.AddHandler("t", async (ctx, _) => { lock (started) { started.Add(ctx.Id); } await gate.Task; }),
            o => o.Concurrency = 1);

        var blocker = await host.EnqueueAsync("t");
        await Eventually.Until(() => { lock (started) { return started.Contains(blocker.Id); } });
        var queued = await host.EnqueueAsync("t");

        var result = await host.Manager.StopAsync(queued.Id);
        gate.SetResult();
        await host.WaitForStateAsync(blocker.Id, TaskState.Succeeded);
        var after = await host.EnqueueAsync("t");
        await host.WaitForStateAsync(after.Id, TaskState.Succeeded);

        Assert.Equal((StopOutcome.Cancelled, TaskState.Cancelled), (result.Outcome, result.Task!.State));
        lock (started)
        {
            Assert.DoesNotContain(queued.Id, started);
        }
    }

    [Fact]
    public async Task Stop_ScheduledTask_IsCancelledAndNeverStarts()
    {
        // On a fake clock: the stop lands before the run-at however slow the machine is.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var runs = new List<long>();
        await using var host = await EngineHost.StartAsync(b => b.AddHandler("t", (ctx, _) => { lock (runs) { runs.Add(ctx.Id); } return Task.CompletedTask; }), time: time);
        var task = await host.EnqueueAsync("t", change: r => r with { RunAt = time.GetUtcNow().AddMinutes(1) });

        var result = await host.Manager.StopAsync(task.Id);
        var marker = await host.EnqueueAsync("t", change: r => r with { RunAt = time.GetUtcNow().AddMinutes(2) });
        await time.AdvanceUntilAsync(TimeSpan.FromSeconds(30), async () => (await host.Manager.GetAsync(marker.Id))!.State == TaskState.Succeeded, "the later marker to run");

        Assert.Equal((StopOutcome.Cancelled, TaskState.Cancelled), (result.Outcome, result.Task!.State));
        lock (runs)
        {
            Assert.Equal([marker.Id], runs);
        }
    }

    [Fact]
    public async Task Stop_FinishedMissingOrCancelledTasks_SaySo()
    {
        await using var host = await EngineHost.StartAsync(b => b.AddHandler("t", (_, _) => Task.CompletedTask));
        var done = await host.EnqueueAsync("t");
        await host.WaitForStateAsync(done.Id, TaskState.Succeeded);
        var scheduled = await host.EnqueueAsync("t", change: r => r with { RunAt = DateTimeOffset.UtcNow.AddHours(1) });
        await host.Manager.StopAsync(scheduled.Id);

        Assert.Equal(StopOutcome.AlreadyFinished, (await host.Manager.StopAsync(done.Id)).Outcome);
        Assert.Equal(StopOutcome.AlreadyCancelled, (await host.Manager.StopAsync(scheduled.Id)).Outcome);
        Assert.Equal(StopOutcome.NotFound, (await host.Manager.StopAsync(424242)).Outcome);
    }

    [Fact]
    public async Task Stop_HandlerIgnoringCancellation_IsAbandonedAfterTheGracePeriod_AndItsSlotFreed()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var token = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await EngineHost.StartAsync(
            b => b.AddHandler("stubborn", async (_, ct) => { token.TrySetResult(ct); await never.Task; })
                  .AddHandler("next", (_, _) => Task.CompletedTask),
            o => { o.Concurrency = 1; o.StopGracePeriod = TimeSpan.FromSeconds(5); },
            time);
        var stubborn = await host.EnqueueAsync("stubborn");
        var ct = await token.Task.WaitAsync(TimeSpan.FromSeconds(5));

        var stopping = host.Manager.StopAsync(stubborn.Id);
        await Eventually.Until(() => ct.IsCancellationRequested);
        Assert.False(stopping.IsCompleted);
        await time.AdvanceUntilAsync(TimeSpan.FromSeconds(1), () => stopping.IsCompleted, "the grace period to end");
        var result = await stopping;

        Assert.Equal((StopOutcome.Cancelled, TaskState.Cancelled), (result.Outcome, result.Task!.State));
        Assert.Contains("abandoned", result.Task.Error, StringComparison.Ordinal);
        var next = await host.EnqueueAsync("next");
        await host.WaitForStateAsync(next.Id, TaskState.Succeeded);
        never.SetResult();
    }

    [Fact]
    public void StopRequest_ArrivingBeforeTheAttemptIsRegistered_IsStillApplied()
    {
        var running = new RunningTasks(TimeProvider.System);
        Assert.Null(running.RequestStop(7, claimId: 42));

        using var execution = new TaskExecution(Running(id: 7, claimId: 42));
        running.Add(execution);

        Assert.True(execution.Token.IsCancellationRequested);
        Assert.True(execution.IsStopRequested);
    }

    [Fact]
    public void StalePendingStop_DoesNotStopALaterClaimOfTheSameTask()
    {
        // The stop found no attempt (its outcome was just written), then the task was retried and claimed again.
        var running = new RunningTasks(TimeProvider.System);
        Assert.Null(running.RequestStop(7, claimId: 1));

        using var rerun = new TaskExecution(Running(id: 7, claimId: 2));
        running.Add(rerun);

        Assert.False(rerun.IsStopRequested);
        Assert.False(rerun.Token.IsCancellationRequested);
    }

    [Fact]
    public void CancellationCallbackThatThrows_NeverEscapesFromTheTimeoutTimerOrAStop()
    {
        var time = new FakeTimeProvider();
        using var timedOut = new TaskExecution(Running(id: 1, claimId: 1));
        timedOut.Token.Register(() => throw new InvalidOperationException("a handler's callback"));
        timedOut.Start(time, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), _ => { });
        using var stopped = new TaskExecution(Running(id: 2, claimId: 2));
        stopped.Token.Register(() => throw new InvalidOperationException("a handler's callback"));

        Assert.Null(Record.Exception(() => time.Advance(TimeSpan.FromSeconds(2))));
        Assert.Null(Record.Exception(stopped.RequestStop));
        Assert.True(timedOut.Token.IsCancellationRequested);
        Assert.True(stopped.Token.IsCancellationRequested);
    }

    [Fact]
    public async Task Stop_HandlerBlockingItsThread_IsStillAbandonedAfterTheGracePeriod()
    {
        using var blocker = new ManualResetEventSlim();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await EngineHost.StartAsync(
            b => b.AddHandler("blocking", (_, _) =>
                {
                    started.TrySetResult();
                    blocker.Wait(CancellationToken.None); // blocks its thread and never looks at the token
                    return Task.CompletedTask;
                })
                .AddHandler("next", (_, _) => Task.CompletedTask),
            o => { o.Concurrency = 1; o.StopGracePeriod = TimeSpan.FromMilliseconds(300); });
        var blocking = await host.EnqueueAsync("blocking");
        await started.Task.WaitAsync(TimeSpan.FromSeconds(5));

        var result = await host.Manager.StopAsync(blocking.Id).WaitAsync(TimeSpan.FromSeconds(10));
        var next = await host.EnqueueAsync("next");
        await host.WaitForStateAsync(next.Id, TaskState.Succeeded);

        Assert.Equal((StopOutcome.Cancelled, TaskState.Cancelled), (result.Outcome, result.Task!.State));
        Assert.Equal(RetryOutcome.PreviousAttemptRunning, (await host.Manager.RetryAsync(blocking.Id)).Outcome);
        blocker.Set();
        await Eventually.Until(async () => (await host.Manager.RetryAsync(blocking.Id)).Outcome, o => o == RetryOutcome.Queued);
    }

    private static TaskSystem.Storage.TaskRecord Running(long id, long claimId) => new()
    {
        Id = id,
        Type = "t",
        Queue = "q",
        Priority = 0,
        PayloadJson = "{}",
        State = TaskState.Running,
        Attempt = 1,
        MaxAttempts = 1,
        Timeout = TimeSpan.FromMinutes(1),
        CreatedAt = DateTimeOffset.UnixEpoch,
        RunAt = DateTimeOffset.UnixEpoch,
        ClaimId = claimId,
    };
}
