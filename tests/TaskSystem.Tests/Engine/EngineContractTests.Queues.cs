using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using TaskSystem.TestSupport;

namespace TaskSystem.Tests.Engine;

/// <summary>Queue controls on a node: pause and resume, per-queue limits, the queues a node serves, enqueue-only nodes.</summary>
public abstract partial class EngineContractTests
{
    [Fact]
    public async Task PausedQueue_StartsNothing_WhileOtherQueuesRun_AndResumeStartsItsTasksOnTheWakeSignal()
    {
        var started = new ConcurrentQueue<string>();
        await using var host = await StartHostAsync(
            b => b.AddHandler("t", (ctx, _) => { started.Enqueue(ctx.Queue); return Task.CompletedTask; }),
            o => o.PollInterval = TimeSpan.FromHours(1));
        var queues = host.Host.Services.GetRequiredService<TaskQueues>();

        Assert.True(await queues.PauseAsync("held"));
        Assert.False(await queues.PauseAsync("held"));
        var held = await host.EnqueueAsync("t", change: r => r with { Queue = "held" });
        var free = await host.EnqueueAsync("t", change: r => r with { Queue = "free" });
        await host.WaitForStateAsync(free.Id, TaskState.Succeeded);

        Assert.Equal(TaskState.Queued, (await host.Manager.GetAsync(held.Id))!.State);
        var listed = Assert.Single(await queues.ListAsync(), q => q.Name == "held");
        Assert.True(listed.Paused);
        Assert.Equal(1L, listed.Counts[TaskState.Queued]);

        // Only the resume's wake-up can start it: the poll would take an hour.
        Assert.True(await queues.ResumeAsync("held"));
        await host.WaitForStateAsync(held.Id, TaskState.Succeeded, TimeSpan.FromSeconds(5));
        Assert.False(await queues.ResumeAsync("held"));
        Assert.False(Assert.Single(await queues.ListAsync(), q => q.Name == "held").Paused);
    }

    [Fact]
    public async Task QueueConcurrency_NeverRunsMoreOfTheQueueThanItsLimit_UnderLoad_WhileOtherQueuesUseTheRest()
    {
        const int Limited = 60;
        const int Others = 60;
        var current = new ConcurrentDictionary<string, int>();
        var peaks = new ConcurrentDictionary<string, int>();
        await using var host = await StartHostAsync(
            b => b.AddHandler("t", async (ctx, ct) =>
            {
                var now = current.AddOrUpdate(ctx.Queue, 1, (_, n) => n + 1);
                peaks.AddOrUpdate(ctx.Queue, now, (_, peak) => Math.Max(peak, now));
                await Task.Delay(5, ct);
                current.AddOrUpdate(ctx.Queue, 0, (_, n) => n - 1);
            }),
            o =>
            {
                o.Concurrency = 6;
                o.Queues["emails"] = new TaskQueueOptions { Concurrency = 2 };
                o.Queues["*"] = new TaskQueueOptions { Serve = true };
            });

        var tasks = await host.Manager.EnqueueManyAsync(
            Enumerable.Range(0, Limited + Others).Select(i => new TaskRequest("t") { Queue = i % 2 == 0 ? "emails" : "reports" }));
        foreach (var task in tasks)
        {
            await host.WaitForStateAsync(task.Id, TaskState.Succeeded, TimeSpan.FromSeconds(60));
        }

        Assert.InRange(peaks["emails"], 1, 2);
        Assert.InRange(peaks["reports"], 1, 6);
        Assert.True(peaks["reports"] > 2, $"the other queue used the node's free workers (peak {peaks["reports"]})");
    }

    [Fact]
    public async Task NamedQueues_AreTheOnlyOnesTheNodeServes()
    {
        await using var host = await StartHostAsync(
            b => b.AddHandler("t", (_, _) => Task.CompletedTask),
            o =>
            {
                o.Queues["mine"] = new TaskQueueOptions();
                o.PollInterval = TimeSpan.FromMilliseconds(50);
            });

        var other = await host.EnqueueAsync("t", change: r => r with { Queue = "theirs" });
        var mine = await host.EnqueueAsync("t", change: r => r with { Queue = "mine" });
        await host.WaitForStateAsync(mine.Id, TaskState.Succeeded);

        // The claim that took the later task would have taken the earlier one first, had the node served its queue.
        Assert.Equal(TaskState.Queued, (await host.Manager.GetAsync(other.Id))!.State);
        var queues = await host.Host.Services.GetRequiredService<TaskQueues>().ListAsync();
        Assert.Equal((true, false), (queues.Single(q => q.Name == "mine").Served, queues.Single(q => q.Name == "theirs").Served));
    }

    [Fact]
    public async Task ConcurrencyZero_RunsNoHandlers_ButEnqueues()
    {
        var ran = 0;
        await using var host = await StartHostAsync(
            b => b.AddHandler("t", (_, _) => { Interlocked.Increment(ref ran); return Task.CompletedTask; }),
            o => { o.Concurrency = 0; o.PollInterval = TimeSpan.FromMilliseconds(50); o.HeartbeatInterval = TimeSpan.FromMilliseconds(200); });

        var task = await host.EnqueueAsync("t");

        // The node is up and beating with no workers, and has had its enqueue's wake-up and several polls: nothing ran.
        var node = await Eventually.Until(async () => (await host.Manager.NodesAsync()).SingleOrDefault(), n => n is not null, because: "the node's first heartbeat");
        await Eventually.Until(async () => (await host.Manager.NodesAsync()).Single().HeartbeatAt, at => at > node!.HeartbeatAt, because: "a later heartbeat");
        Assert.Equal(0, node!.Concurrency);
        Assert.Equal(TaskState.Queued, (await host.Manager.GetAsync(task.Id))!.State);
        Assert.Equal(0, Volatile.Read(ref ran));
    }
}
