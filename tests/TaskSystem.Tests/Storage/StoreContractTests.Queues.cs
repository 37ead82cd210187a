using TaskSystem.Storage;

namespace TaskSystem.Tests.Storage;

/// <summary>Queue pause: every claim skips a paused queue; the node's queue filters; the pause state reads back.</summary>
public abstract partial class StoreContractTests
{
    private Task<bool> PauseAsync(string queue, bool paused = true) =>
        Store.QueuePauseSetAsync(new QueuePauseSetParams(queue, paused, T0), CancellationToken.None);

    [Fact]
    public async Task QueuePauseSet_SaysWhetherItChanged_AndQueuesPausedListsThePausedOnes()
    {
        Assert.True(await PauseAsync("mail"));
        Assert.False(await PauseAsync("mail"));
        Assert.True(await PauseAsync("bulk"));
        Assert.True(await PauseAsync("bulk", paused: false));
        Assert.False(await PauseAsync("bulk", paused: false));

        Assert.Equal([new QueuePauseRecord("mail", T0)], await Store.QueuesPausedAsync(CancellationToken.None));
    }

    [Fact]
    public async Task TasksClaim_SkipsPausedQueues_AndTakesThemOnceResumed()
    {
        var tasks = await InsertAsync(Task(queue: "mail", priority: 0), Task(queue: "web", priority: 1), Task(queue: "mail", priority: 2, runAt: T0.AddSeconds(1)));
        await PauseAsync("mail");

        Assert.Equal([tasks[1].Id], (await ClaimAsync(10, now: T0.AddSeconds(2))).Select(t => t.Id));
        Assert.Empty(await ClaimExternalAsync(10, now: T0.AddSeconds(2)));

        await PauseAsync("mail", paused: false);
        Assert.Equal([tasks[0].Id, tasks[2].Id], (await ClaimAsync(10, claim: 2, now: T0.AddSeconds(2))).Select(t => t.Id));
    }

    [Fact]
    public async Task TasksClaimExternal_SkipsPausedQueues()
    {
        var tasks = await InsertAsync(Task(queue: "mail"), Task(queue: "web"));
        await PauseAsync("mail");

        Assert.Equal([tasks[1].Id], (await ClaimExternalAsync(10, queues: ["mail", "web"])).Select(t => t.Id));
    }

    [Fact]
    public async Task TasksClaim_WithQueuesOrExcludedQueues_TakesOnlyThose()
    {
        var tasks = await InsertAsync(Task(queue: "a"), Task(queue: "b"), Task(queue: "c"));

        var only = await Store.TasksClaimAsync(new TasksClaimParams("n1", 1, 10, AllTypes, T0, T0.AddSeconds(30)) { Queues = ["b"] }, CancellationToken.None);
        var rest = await Store.TasksClaimAsync(new TasksClaimParams("n1", 2, 10, AllTypes, T0, T0.AddSeconds(30)) { ExcludedQueues = ["c"] }, CancellationToken.None);

        Assert.Equal([tasks[1].Id], only.Select(t => t.Id));
        Assert.Equal([tasks[0].Id], rest.Select(t => t.Id));
        Assert.Equal(TaskState.Queued, (await GetAsync(tasks[2].Id)).State);
    }
}
