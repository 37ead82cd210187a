using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using TaskSystem.Storage;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Engine;

/// <summary>
/// The engine's key behaviours, run against every store: dispatch on the wake signal, bounded workers, exactly one
/// run per task, stop, retries, shutdown and crash recovery. Each store gets a subclass that says where the database is.
/// </summary>
public abstract class EngineContractTests : IAsyncLifetime
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

        await started.Task.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Workers_NeverExceedConcurrency_AndEveryTaskRunsExactlyOnce()
    {
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

        var tasks = await host.Manager.EnqueueManyAsync(Enumerable.Range(0, 200).Select(_ => new TaskRequest("t")));
        await Eventually.Until(async () => (await host.Manager.CountByStateAsync())[TaskState.Succeeded], n => n == 200);

        Assert.InRange(peak, 1, 4);
        Assert.All(tasks, t => Assert.Equal(1, runs[t.Id]));
    }

    [Fact]
    public async Task Stop_RunningTask_CancelsItsTokenAtOnce_AndEndsCancelled()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var observed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await StartHostAsync(b => b.AddHandler("long", async (_, ct) =>
        {
            started.TrySetResult();
            using var registration = ct.Register(() => observed.TrySetResult());
            await Task.Delay(Timeout.Infinite, ct);
        }));
        var task = await host.EnqueueAsync("long");
        await started.Task.WaitAsync(TimeSpan.FromSeconds(5));

        var result = await host.Manager.StopAsync(task.Id);

        Assert.True(observed.Task.IsCompleted);
        Assert.Equal((StopOutcome.Cancelled, TaskState.Cancelled, 1), (result.Outcome, result.Task!.State, result.Task.Attempt));
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

        await host.Store.TaskCancelAsync(new TaskCancelParams(task.Id, DateTimeOffset.UtcNow), CancellationToken.None);

        await host.WaitForStateAsync(task.Id, TaskState.Cancelled);
    }

    [Fact]
    public async Task FailingHandler_IsRetriedWithBackoff_ThenFailsKeepingEveryError()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await StartHostAsync(
            b => b.AddHandler("t", (ctx, _) => Task.FromException(new TaskFailedException($"no luck {ctx.Attempt}"))),
            o => { o.RetryBaseDelay = TimeSpan.FromSeconds(10); o.RetryMaxDelay = TimeSpan.FromSeconds(10); },
            time);

        var task = await host.EnqueueAsync("t", change: r => r with { MaxAttempts = 2 });
        await host.WaitForStateAsync(task.Id, TaskState.Scheduled);
        time.Advance(TimeSpan.FromSeconds(16));

        var failed = await host.WaitForStateAsync(task.Id, TaskState.Failed);
        Assert.Equal((2, "no luck 2"), (failed.Attempt, failed.Error));
        Assert.Equal(["no luck 1", "no luck 2"], failed.Errors.Select(e => e.Error));
    }

    [Fact]
    public async Task Shutdown_PutsRunningTasksBack_WithoutCountingTheAttempt()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var host = await StartHostAsync(
            b => b.AddHandler("slow", async (_, ct) => { started.TrySetResult(); await Task.Delay(Timeout.Infinite, ct); }),
            o => { o.ShutdownTimeout = TimeSpan.FromMilliseconds(200); o.StopGracePeriod = TimeSpan.FromSeconds(1); });
        await using (host)
        {
            var slow = await host.EnqueueAsync("slow");
            await started.Task.WaitAsync(TimeSpan.FromSeconds(5));

            await host.StopAsync();

            var released = (await host.Store.TaskGetAsync(slow.Id, CancellationToken.None))!;
            Assert.Equal((TaskState.Queued, 0), (released.State, released.Attempt));
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

        await using var host = await StartHostAsync(b => b.AddHandler("t", (_, _) => Task.CompletedTask));

        var done = await host.WaitForStateAsync(id, TaskState.Succeeded);
        Assert.Equal(2, done.Attempt);
        Assert.Contains("test-node", Assert.Single(done.Errors).Error, StringComparison.Ordinal);
    }
}
