using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using TaskSystem.Diagnostics;
using TaskSystem.Engine;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Engine;

/// <summary>
/// Claiming ahead of need: a task held for a busy worker is a claimed attempt like any other (running in the store,
/// stoppable at once), starts when a worker frees up, and goes back to the queue uncounted when no worker takes it in
/// time or the node stops. Each test holds one worker busy with a gate task and makes the node want tasks ahead by
/// telling it that claims see many completions (what a stream of short tasks shows it); the clock is fake, so a
/// held task waits until the test moves time on.
/// </summary>
public abstract partial class EngineContractTests
{
    [Fact]
    public async Task ClaimAhead_HoldsTheNextTaskForABusyWorker_AndStartsItWhenTheWorkerFrees()
    {
        await using var node = await StartBusyNodeAsync();
        var next = await node.HoldNextAsync();

        Assert.False(node.Ran.ContainsKey(next.Id), "a task claimed ahead waits for a worker; it does not run beside the busy one");
        node.Gate.TrySetResult();

        var done = await node.Host.WaitForStateAsync(next.Id, TaskState.Succeeded);
        Assert.Equal((1, 1), (node.Ran[next.Id], done.Attempt));
    }

    [Fact]
    public async Task Stop_OfATaskClaimedAhead_CancelsItAtOnce_WithoutRunningIt()
    {
        await using var node = await StartBusyNodeAsync();
        var next = await node.HoldNextAsync();

        var result = await node.Host.Manager.StopAsync(next.Id).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal((StopOutcome.Cancelled, TaskState.Cancelled), (result.Outcome, result.Task!.State));
        Assert.Equal(TaskState.Running, (await node.Host.Manager.GetAsync(node.Busy.Id))!.State);
        node.Gate.TrySetResult();
        await node.Host.WaitForStateAsync(node.Busy.Id, TaskState.Succeeded);
        Assert.False(node.Ran.ContainsKey(next.Id), "a task stopped while claimed ahead never runs");
    }

    [Fact]
    public async Task ClaimAhead_ATaskNoWorkerTakesInTime_GoesBackToTheQueue_WithoutCountingTheAttempt()
    {
        await using var node = await StartBusyNodeAsync();
        var next = await node.HoldNextAsync();

        // The workers finish nothing any more: the node stops wanting tasks ahead, and the held one's time runs out.
        for (var i = 0; i < 40; i++)
        {
            node.Ahead.ObserveClaim(0);
        }

        using var released = new MetricCollector<long>(
            node.Host.Host.Services.GetRequiredService<IMeterFactory>(), TaskSystemDiagnostics.MeterName, "tasksystem.tasks.claimed_ahead.released");
        node.Time.Advance(TasksClaimedAhead.MaxHold + TimeSpan.FromMilliseconds(50));
        var queued = await node.Host.WaitForStateAsync(next.Id, TaskState.Queued);
        Assert.Equal(0, queued.Attempt);
        Assert.Equal(1, released.GetMeasurementSnapshot().EvaluateAsCounter());

        node.Gate.TrySetResult();
        var done = await node.Host.WaitForStateAsync(next.Id, TaskState.Succeeded);
        Assert.Equal((1, 1), (node.Ran[next.Id], done.Attempt));
    }

    [Fact]
    public async Task Shutdown_PutsTasksClaimedAheadBackInTheQueue_WithoutCountingTheAttempt()
    {
        await using var node = await StartBusyNodeAsync();
        var next = await node.HoldNextAsync();

        var stopping = node.Host.StopAsync();
        var released = await node.Host.WaitForStateAsync(next.Id, TaskState.Queued);
        Assert.Equal(0, released.Attempt);

        // The busy worker finishes after the node began to stop: it is not handed the released task.
        node.Gate.TrySetResult();
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(node.Ran.ContainsKey(next.Id), "a task released at shutdown does not run on the stopping node");
        Assert.Equal(TaskState.Succeeded, (await node.Host.Manager.GetAsync(node.Busy.Id))!.State);
    }

    /// <summary>A node of one worker, busy with a task that waits for <see cref="BusyNode.Gate"/>, that wants one task ahead.</summary>
    private async Task<BusyNode> StartBusyNodeAsync()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ran = new ConcurrentDictionary<long, int>();
        var host = await StartHostAsync(
            b => b
                .AddHandler("gate", async (_, _) => await gate.Task)
                .AddHandler("t", (ctx, _) =>
                {
                    ran.AddOrUpdate(ctx.Id, 1, (_, n) => n + 1);
                    return Task.CompletedTask;
                }),
            o =>
            {
                o.Concurrency = 1;
                o.PollInterval = TimeSpan.FromHours(1);
                o.ShutdownTimeout = TimeSpan.FromSeconds(30);
            },
            time);

        var ahead = host.Host.Services.GetRequiredService<TasksClaimedAhead>();
        var busy = await host.EnqueueAsync("gate");
        await host.WaitForStateAsync(busy.Id, TaskState.Running);
        return new BusyNode(host, ahead, time, gate, ran, busy);
    }

    private sealed record BusyNode(
        EngineHost Host, TasksClaimedAhead Ahead, FakeTimeProvider Time, TaskCompletionSource Gate, ConcurrentDictionary<long, int> Ran, TaskInfo Busy)
        : IAsyncDisposable
    {
        /// <summary>Makes the node want a task ahead, enqueues one, and waits until it is claimed for the busy worker.</summary>
        public async Task<TaskInfo> HoldNextAsync()
        {
            // As if each claim had seen a hundred tasks finish: the node now wants tasks ahead of its one worker.
            Ahead.ObserveClaim(100);
            var next = await Host.EnqueueAsync("t");
            await Host.WaitForStateAsync(next.Id, TaskState.Running);

            // Its claim is committed before the node holds it: wait for the hold too.
            await Eventually.Until(() => Ahead.Count == 1, because: "the claimed task to be held for the busy worker");
            return next;
        }

        public async ValueTask DisposeAsync()
        {
            Gate.TrySetResult();
            await Host.DisposeAsync();
        }
    }
}
