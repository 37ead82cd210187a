using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using TaskSystem.Storage;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Engine;

/// <summary>
/// The engine's key behaviours, run against every store: dispatch on the wake signal, bounded workers, exactly one
/// run per task, stop, retries, shutdown and crash recovery. Each store gets a subclass that says where the database is.
/// </summary>
public abstract partial class EngineContractTests : IAsyncLifetime
{
    /// <summary>Starts a host on this test's database (the same one each time within a test).</summary>
    protected abstract Task<EngineHost> StartHostAsync(Action<TaskSystemBuilder> handlers, Action<TaskSystemOptions>? configure = null, TimeProvider? time = null);

    /// <summary>Opens this test's database directly, as another process would.</summary>
    private protected abstract ITaskStore OpenStore();

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Enqueue_OnAnIdleNode_StartsTheTaskOnTheWakeSignal_NotThePoll()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await StartHostAsync(
            b => b.AddHandler("t", (_, _) => { started.TrySetResult(); return Task.CompletedTask; }),
            o => o.PollInterval = TimeSpan.FromHours(1));

        await host.EnqueueAsync("t");

        // Only the signal can start it: the poll would take an hour.
        await started.Task.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Workers_NeverExceedConcurrency_AndEveryTaskRunsExactlyOnce()
    {
        const int Count = 200;
        var runs = new ConcurrentDictionary<long, int>();
        var current = 0;
        var peak = 0;
        await using var host = await StartHostAsync(
            b => b.AddHandler("t", async (ctx, ct) =>
            {
                runs.AddOrUpdate(ctx.Id, 1, (_, n) => n + 1);
                var now = Interlocked.Increment(ref current);
                var seen = Volatile.Read(ref peak);
                while (now > seen && Interlocked.CompareExchange(ref peak, now, seen) != seen)
                {
                    seen = Volatile.Read(ref peak);
                }

                await Task.Delay(1, ct);
                Interlocked.Decrement(ref current);
            }),
            o => o.Concurrency = 4);

        var tasks = await host.Manager.EnqueueManyAsync(Enumerable.Range(0, Count).Select(_ => new TaskRequest("t")));
        await Eventually.Until(async () => (await host.Manager.CountByStateAsync())[TaskState.Succeeded], n => n == Count);

        Assert.InRange(peak, 1, 4);
        Assert.Equal(Count, runs.Count);
        Assert.All(tasks, t => Assert.Equal(1, runs[t.Id]));
    }

    [Fact]
    public async Task Stop_RunningTask_CancelsItsTokenAtOnce_EndsCancelled_AndIsNeverRetried()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var observed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = 0;
        await using var host = await StartHostAsync(b => b
            .AddHandler("long", async (_, ct) =>
            {
                Interlocked.Increment(ref runs);
                started.TrySetResult();
                await Cancellation.ObserveAsync(observed, ct);
            })
            .AddHandler("marker", (_, _) => Task.CompletedTask));
        var task = await host.EnqueueAsync("long");
        await started.Task.WaitAsync(TimeSpan.FromSeconds(5));

        var result = await host.Manager.StopAsync(task.Id);

        Assert.True(observed.Task.IsCompleted, "the handler's token was cancelled before StopAsync returned");
        Assert.Equal((StopOutcome.Cancelled, TaskState.Cancelled, 1), (result.Outcome, result.Task!.State, result.Task.Attempt));
        Assert.Equal(TaskState.Cancelled, (await host.Manager.GetAsync(task.Id))!.State);

        // Let the dispatcher go round again: the stopped task stays stopped.
        var marker = await host.EnqueueAsync("marker");
        await host.WaitForStateAsync(marker.Id, TaskState.Succeeded);
        var after = (await host.Manager.GetAsync(task.Id))!;
        Assert.Equal((1, TaskState.Cancelled, 1), (runs, after.State, after.Attempt));
    }

    [Fact]
    public async Task Stop_HandlerThatReturnsNormallyOnItsToken_EndsCancelled_KeepingWhatItReturned()
    {
        // The usual shape of a cooperative loop: it ends when asked to and returns what it has done so far.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await StartHostAsync(b => b.AddHandler("loop", async (_, ct) =>
        {
            started.TrySetResult();
            var rounds = 0;
            while (!ct.IsCancellationRequested)
            {
                rounds++;
                await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            return (JsonElement?)JsonSerializer.SerializeToElement(new { rounds });
        }));
        var task = await host.EnqueueAsync("loop");
        await started.Task.WaitAsync(TimeSpan.FromSeconds(5));

        var result = await host.Manager.StopAsync(task.Id);

        Assert.Equal((StopOutcome.Cancelled, TaskState.Cancelled), (result.Outcome, result.Task!.State));
        var stored = (await host.Manager.GetAsync(task.Id))!;
        Assert.Equal((TaskState.Cancelled, StopErrors.ReturnedAfterStop), (stored.State, stored.Error));
        Assert.Equal(1, stored.Result!.Value.GetProperty("rounds").GetInt32());
        Assert.Equal(StopOutcome.AlreadyCancelled, (await host.Manager.StopAsync(task.Id)).Outcome);
    }

    [Fact]
    public async Task StopRecordedBeforeTheOutcome_WinsOverASuccess_EvenIfTheHandlerNeverSawIt()
    {
        // The stop is on disk but its signal has not reached the node (another node took the request, say), and the
        // handler succeeds in that window: the stop, recorded first, still decides the task's state.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sawStop = false;
        await using var host = await StartHostAsync(
            b => b.AddHandler("t", async (_, ct) =>
            {
                started.TrySetResult();
                await finish.Task;
                sawStop = ct.IsCancellationRequested;
                return (JsonElement?)JsonSerializer.SerializeToElement(new { done = true });
            }),
            o => o.StopPollInterval = TimeSpan.FromHours(1));
        var task = await host.EnqueueAsync("t");
        await started.Task.WaitAsync(TimeSpan.FromSeconds(5));

        var stop = await host.Store.TaskCancelAsync(new TaskCancelParams(task.Id, DateTimeOffset.UtcNow), CancellationToken.None);
        finish.SetResult();

        var stored = await host.WaitForStateAsync(task.Id, TaskState.Cancelled);
        Assert.Equal(TaskCancelOutcome.StopRequested, stop.Outcome);
        Assert.False(sawStop, "no signal and no poll reached the handler: the store alone decided");
        Assert.Equal(StopErrors.ReturnedAfterStop, stored.Error);
        Assert.True(stored.Result!.Value.GetProperty("done").GetBoolean());
    }

    [Fact]
    public async Task StopFlag_SetBehindTheEnginesBack_IsFoundByTheStopPoll()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await StartHostAsync(
            b => b.AddHandler("t", async (_, ct) => { started.TrySetResult(); await Task.Delay(Timeout.Infinite, ct); }),
            o => o.StopPollInterval = TimeSpan.FromMilliseconds(50));
        var task = await host.EnqueueAsync("t");
        await started.Task.WaitAsync(TimeSpan.FromSeconds(5));

        // Write the flag straight to the store, as another node would; no in-process signal is sent.
        await host.Store.TaskCancelAsync(new TaskCancelParams(task.Id, DateTimeOffset.UtcNow), CancellationToken.None);

        await host.WaitForStateAsync(task.Id, TaskState.Cancelled);
    }

    [Fact]
    public async Task FailingHandler_IsRetriedWithBackoff_ThenFailsKeepingEveryError()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var attempts = 0;
        await using var host = await StartHostAsync(
            b => b.AddHandler("t", (ctx, _) => { Interlocked.Increment(ref attempts); return Task.FromException(new TaskFailedException($"no luck {ctx.Attempt}")); }),
            o => { o.RetryBaseDelay = TimeSpan.FromSeconds(10); o.RetryMaxDelay = TimeSpan.FromMinutes(5); },
            time);

        var task = await host.EnqueueAsync("t");

        var first = await host.WaitForStateAsync(task.Id, TaskState.Scheduled);
        Assert.InRange(first.RunAt - first.Errors[0].At, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15));
        time.Advance(TimeSpan.FromSeconds(15));
        var second = await Eventually.Until(async () => (await host.Manager.GetAsync(task.Id))!, t => t.Attempt == 2 && t.State == TaskState.Scheduled);
        Assert.InRange(second.RunAt - second.Errors[1].At, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30));
        time.Advance(TimeSpan.FromSeconds(30));

        var failed = await host.WaitForStateAsync(task.Id, TaskState.Failed);
        Assert.Equal((3, 3, "no luck 3"), (failed.Attempt, attempts, failed.Error));
        Assert.Equal(["no luck 1", "no luck 2", "no luck 3"], failed.Errors.Select(e => e.Error));
    }

    [Fact]
    public async Task Shutdown_LetsRunningTasksFinishWithinTheTimeout_AndPutsTheRestBackWithoutCountingTheAttempt()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var quickStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slowStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slowCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finishQuick = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var host = await StartHostAsync(
            b => b.AddHandler("quick", async (_, _) => { quickStarted.TrySetResult(); await finishQuick.Task; })
                  .AddHandler("slow", async (_, ct) =>
                  {
                      slowStarted.TrySetResult();
                      await Cancellation.ObserveAsync(slowCancelled, ct);
                  }),
            o => { o.ShutdownTimeout = TimeSpan.FromSeconds(10); o.StopGracePeriod = TimeSpan.FromSeconds(1); },
            time);
        await using (host)
        {
            var quick = await host.EnqueueAsync("quick");
            var slow = await host.EnqueueAsync("slow");
            await Task.WhenAll(quickStarted.Task, slowStarted.Task).WaitAsync(TimeSpan.FromSeconds(5));

            var stopping = host.StopAsync();
            finishQuick.SetResult();
            await host.WaitForStateAsync(quick.Id, TaskState.Succeeded);
            Assert.False(stopping.IsCompleted, "the slow task holds the shutdown until its timeout");

            // Past the shutdown timeout the slow task is cancelled; then the clock stands still while its release is written.
            await time.AdvanceUntilAsync(TimeSpan.FromSeconds(1), () => slowCancelled.Task.IsCompleted, "the shutdown timeout to cancel the slow task");
            await stopping.WaitAsync(TimeSpan.FromSeconds(20));

            var released = (await host.Store.TaskGetAsync(slow.Id, CancellationToken.None))!;
            Assert.Equal((TaskState.Queued, 0), (released.State, released.Attempt));
            Assert.Equal(TaskState.Succeeded, (await host.Store.TaskGetAsync(quick.Id, CancellationToken.None))!.State);
        }
    }

    [Fact]
    public async Task Restart_AfterACrash_RerunsTheTasksLeftRunning_CountingTheAttempt()
    {
        long id;
        await using (var crashed = OpenStore())
        {
            await crashed.MigrateAsync(CancellationToken.None);
            var now = DateTimeOffset.UtcNow;
            id = (await crashed.TasksInsertAsync(new TasksInsertParams([new NewTask("t", "default", 0, "{}", 3, TimeSpan.FromMinutes(1), now, now)]), CancellationToken.None))[0].Id;
            await crashed.TasksClaimAsync(new TasksClaimParams("test-node", 1, 10, ["t"], now, now.AddSeconds(30)), CancellationToken.None);

            // Disposed without an outcome: as if the process had been killed mid-run.
        }

        var attempts = new List<int>();
        await using var host = await StartHostAsync(b => b.AddHandler("t", (ctx, _) => { lock (attempts) { attempts.Add(ctx.Attempt); } return Task.CompletedTask; }));

        var done = await host.WaitForStateAsync(id, TaskState.Succeeded);
        Assert.Equal(2, done.Attempt);
        lock (attempts)
        {
            Assert.Equal([2], attempts);
        }

        Assert.Contains("test-node", Assert.Single(done.Errors).Error, StringComparison.Ordinal);
    }

    /// <summary>The attempt of <paramref name="id"/> this node runs, once it is registered.</summary>
    private static Task<TaskSystem.Engine.TaskExecution> RunningAttemptAsync(EngineHost host, long id) =>
        Eventually.Until(
            () => Task.FromResult(host.Host.Services.GetService(typeof(TaskSystem.Engine.RunningTasks)) is TaskSystem.Engine.RunningTasks running
                && running.TryGet(id, out var execution) ? execution : null),
            execution => execution is not null,
            because: $"task {id} to run")!;

    [Fact]
    public async Task InterruptedAttempt_GoesBackToTheQueueWithoutCountingIt_SaysWhy_AndRunsAgain()
    {
        var rerun = new TaskCompletionSource<(int Attempt, string? Error)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = 0;
        EngineHost host = null!;
        host = await StartHostAsync(b => b.AddHandler("t", async (ctx, ct) =>
        {
            if (Interlocked.Increment(ref runs) == 1)
            {
                await Task.Delay(Timeout.Infinite, ct);
            }

            // The second run sees the row as the interruption left it (a claim keeps the last error).
            rerun.TrySetResult((ctx.Attempt, (await host.Manager.GetAsync(ctx.Id, ct))!.Error));
        }));
        await using (host)
        {
            var task = await host.EnqueueAsync("t");

            (await RunningAttemptAsync(host, task.Id)).Cancel(TaskSystem.Engine.StopReason.Interrupted);

            var (attempt, reason) = await rerun.Task.WaitAsync(TimeSpan.FromSeconds(10));
            var done = await host.WaitForStateAsync(task.Id, TaskState.Succeeded);
            Assert.Equal((1, 1), (attempt, done.Attempt));
            Assert.StartsWith("interrupted: node test-node could not renew its lease", reason, StringComparison.Ordinal);
            Assert.Empty(done.Errors);
        }
    }

    [Fact]
    public async Task InterruptedHandler_IgnoringCancellation_FreesItsSlot_ButKeepsItsTaskUntilItReturns()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = 0;
        var overlapped = false;
        await using var host = await StartHostAsync(
            b => b.AddHandler("stubborn", async (ctx, _) =>
            {
                overlapped |= Interlocked.Increment(ref running) > 1;
                if (ctx.Attempt == 1 && !release.Task.IsCompleted)
                {
                    await release.Task;
                }

                Interlocked.Decrement(ref running);
            }).AddHandler("other", (_, _) => Task.CompletedTask),
            o =>
            {
                o.Concurrency = 1;
                o.StopGracePeriod = TimeSpan.FromSeconds(5);

                // The test moves the clock faster than the work goes: with a short lease, self-fencing (multi-node
                // stores) would interrupt the other task before its outcome is written.
                o.LeaseDuration = TimeSpan.FromHours(1);
            },
            time);

        var stubborn = await host.EnqueueAsync("stubborn");
        var execution = await RunningAttemptAsync(host, stubborn.Id);
        execution.Cancel(TaskSystem.Engine.StopReason.Interrupted);
        var other = await host.EnqueueAsync("other");
        await time.AdvanceUntilAsync(TimeSpan.FromSeconds(1), async () => (await host.Manager.GetAsync(other.Id))!.State == TaskState.Succeeded,
            "the grace period to free the slot, and the other task to use it");
        Assert.Equal(TaskState.Running, (await host.Manager.GetAsync(stubborn.Id))!.State);

        release.SetResult();
        var done = await host.WaitForStateAsync(stubborn.Id, TaskState.Succeeded);

        Assert.Equal(1, done.Attempt);
        Assert.False(overlapped);
    }
}
