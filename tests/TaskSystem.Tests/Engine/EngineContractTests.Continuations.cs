using System.Collections.Concurrent;
using System.Text.Json;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Engine;

/// <summary>Continuations through the engine: released by the parent's outcome on the wake signal, never by a poll.</summary>
public abstract partial class EngineContractTests
{
    [Fact]
    public async Task Continuation_RunsOnTheSignalOnceItsParentSucceeded_AndReadsTheParentsResult()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var seen = new TaskCompletionSource<IReadOnlyList<TaskParentResult>>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await StartHostAsync(
            b => b
                .AddHandler("parent", async (ctx, ct) =>
                {
                    await release.Task.WaitAsync(ct);
                    return JsonSerializer.SerializeToElement(new { n = 42 });
                })
                .AddHandler("child", async (ctx, ct) => seen.TrySetResult(await ctx.ParentResultsAsync(ct))),
            o => o.PollInterval = TimeSpan.FromHours(1));

        var parent = await host.EnqueueAsync("parent");
        var child = await host.EnqueueAsync("child", change: r => r with { After = [parent.Id] });
        Assert.Equal(TaskState.Awaiting, child.State);
        Assert.Equal([parent.Id], (await host.Manager.GetAsync(child.Id))!.After);
        Assert.Equal(TaskState.Awaiting, (await host.Manager.GetAsync(child.Id))!.State);

        release.SetResult();

        // Only the release can start it: the poll would take an hour.
        var parents = await seen.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var result = Assert.Single(parents);
        Assert.Equal((parent.Id, "parent", TaskState.Succeeded, 42), (result.Id, result.Type, result.State, result.Result!.Value.GetProperty("n").GetInt32()));
        await host.WaitForStateAsync(child.Id, TaskState.Succeeded);
    }

    [Fact]
    public async Task Chain_RunsInOrder_EachLinkOnTheSignal()
    {
        const int Links = 20;
        var order = new ConcurrentQueue<long>();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await StartHostAsync(
            b => b
                .AddHandler("gate", async (ctx, ct) => { await release.Task.WaitAsync(ct); order.Enqueue(ctx.Id); })
                .AddHandler("link", (ctx, _) => { order.Enqueue(ctx.Id); return Task.CompletedTask; }),
            o => o.PollInterval = TimeSpan.FromHours(1));

        var ids = new List<long> { (await host.EnqueueAsync("gate")).Id };
        for (var i = 0; i < Links; i++)
        {
            ids.Add((await host.Manager.EnqueueAsync(new TaskRequest("link") { After = [ids[^1]] })).Id);
        }

        Assert.Empty(order);
        release.SetResult();
        await host.WaitForStateAsync(ids[^1], TaskState.Succeeded, TimeSpan.FromSeconds(20));

        Assert.Equal(ids, order);
    }

    [Fact]
    public async Task Continuation_ParentFailsForGood_IsCancelledNamingIt_WhileAnyOutcomeRuns()
    {
        var ran = new ConcurrentBag<string>();
        await using var host = await StartHostAsync(b => b
            .AddHandler("fails", (_, _) => Task.FromException(new InvalidOperationException("no")))
            .AddHandler("after", (ctx, _) => { ran.Add(ctx.PayloadJson); return Task.CompletedTask; }));

        var parent = await host.EnqueueAsync("fails", change: r => r with { MaxAttempts = 1, RunAt = DateTimeOffset.UtcNow.AddMilliseconds(300) });
        var strict = await host.EnqueueAsync("after", new { policy = "strict" }, r => r with { After = [parent.Id] });
        var lenient = await host.EnqueueAsync("after", new { policy = "any" }, r => r with { After = [parent.Id], AfterPolicy = AfterPolicy.AnyOutcome });

        await host.WaitForStateAsync(lenient.Id, TaskState.Succeeded);
        var cancelled = await host.WaitForStateAsync(strict.Id, TaskState.Cancelled);

        Assert.Equal($"parent task {parent.Id} failed", cancelled.Error);
        Assert.Equal(["""{"policy":"any"}"""], ran);
    }

    [Fact]
    public async Task Continuation_WaitingAcrossARestart_IsReleasedAfterIt()
    {
        var parentRuns = 0;
        var child = 0L;
        await using (var first = await StartHostAsync(b => b
            .AddHandler("parent", async (_, ct) => { Interlocked.Increment(ref parentRuns); await Task.Delay(Timeout.Infinite, ct); })
            .AddHandler("child", (_, _) => Task.CompletedTask)))
        {
            var parent = await first.EnqueueAsync("parent");
            child = (await first.EnqueueAsync("child", change: r => r with { After = [parent.Id] })).Id;
            await Eventually.Until(() => Task.FromResult(Volatile.Read(ref parentRuns)), n => n == 1, because: "the parent runs");
        }

        // Shut down while the parent ran: it went back to the queue, and the child still waits for it.
        await using var second = await StartHostAsync(b => b
            .AddHandler("parent", (_, _) => Task.CompletedTask)
            .AddHandler("child", (_, _) => Task.CompletedTask));
        await second.WaitForStateAsync(child, TaskState.Succeeded);
    }

    [Fact]
    public async Task Enqueue_UnknownParent_IsRefusedNamingTheField()
    {
        await using var host = await StartHostAsync(b => b.AddHandler("t", (_, _) => Task.CompletedTask));

        var refused = await Assert.ThrowsAsync<TaskValidationException>(() => host.Manager.EnqueueAsync(new TaskRequest("t") { After = [424242] }));

        Assert.Equal("after", refused.Field);
        Assert.Contains("424242", refused.Message, StringComparison.Ordinal);
        Assert.Null(refused.Index);
    }
}
