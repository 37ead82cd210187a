using TaskSystem.Storage;

namespace TaskSystem.Tests.Storage;

/// <summary>Progress reports: fenced by the attempt that holds the task, read back by id and for running tasks, gone with their task.</summary>
public abstract partial class StoreContractTests
{
    private Task<bool> ProgressAsync(long id, double percent, string? message = null, string node = "n1", long claim = 1, DateTimeOffset? at = null) =>
        Store.TaskProgressSetAsync(new TaskProgressSetParams(id, node, claim, percent, message, at ?? T0.AddSeconds(1)), CancellationToken.None);

    private async Task<TaskProgressRecord?> ProgressOfAsync(long id) =>
        (await Store.TasksProgressGetAsync([id], CancellationToken.None)).SingleOrDefault();

    [Fact]
    public async Task TaskProgressSet_WhileHeld_IsReadBack_AndALaterReportReplacesIt()
    {
        var task = (await InsertAsync(Task()))[0];
        await ClaimAsync(1);

        Assert.True(await ProgressAsync(task.Id, 12.5, "first"));
        Assert.True(await ProgressAsync(task.Id, 40, null, at: T0.AddSeconds(2)));

        Assert.Equal(new TaskProgressRecord(task.Id, 1, 40, null, T0.AddSeconds(2)), await ProgressOfAsync(task.Id));
    }

    [Fact]
    public async Task TaskProgressSet_UnderAnotherClaim_OrOnceTheTaskFinished_ChangesNothing()
    {
        var task = (await InsertAsync(Task()))[0];
        await ClaimAsync(1, node: "n1", claim: 7);
        Assert.True(await ProgressAsync(task.Id, 10, "mine", node: "n1", claim: 7));

        Assert.False(await ProgressAsync(task.Id, 90, "stale claim", node: "n1", claim: 6));
        Assert.False(await ProgressAsync(task.Id, 90, "other node", node: "n2", claim: 7));
        Assert.True(await CompleteAsync(new TaskCompletion(task.Id, "n1", 7, CompletionKind.Succeeded, T0.AddSeconds(3))));
        Assert.False(await ProgressAsync(task.Id, 99, "too late", node: "n1", claim: 7));

        var kept = await ProgressOfAsync(task.Id);
        Assert.Equal((10d, "mine"), (kept!.Percent, kept.Message));
        Assert.Empty(await Store.TasksProgressGetAsync([task.Id + 1000], CancellationToken.None));
    }

    [Fact]
    public async Task TasksProgressRunning_ListsRunningTasksReportedByTheirCurrentAttempt_LowestIdFirst()
    {
        var tasks = await InsertAsync(Task(), Task(), Task(), Task());
        await ClaimAsync(4, claim: 1);
        Assert.True(await ProgressAsync(tasks[2].Id, 30, "c"));
        Assert.True(await ProgressAsync(tasks[0].Id, 10, "a"));
        Assert.True(await ProgressAsync(tasks[1].Id, 20, "b"));

        // One finishes, one goes back to the queue and runs again without reporting yet: neither is listed.
        Assert.True(await CompleteAsync(new TaskCompletion(tasks[2].Id, "n1", 1, CompletionKind.Succeeded, T0.AddSeconds(2))));
        Assert.True(await CompleteAsync(new TaskCompletion(tasks[1].Id, "n1", 1, CompletionKind.Retry, T0.AddSeconds(2), Error: "x", RunAt: T0.AddSeconds(2))));
        Assert.Single(await ClaimAsync(1, claim: 2, now: T0.AddSeconds(3)));

        var running = await Store.TasksProgressRunningAsync(new TasksProgressRunningParams(10), CancellationToken.None);

        Assert.Equal([(tasks[0].Id, 10d, "a")], running.Select(p => (p.Id, p.Percent, p.Message)));
        Assert.Equal(1, (await ProgressOfAsync(tasks[1].Id))!.Attempt);
        Assert.Single(await Store.TasksProgressRunningAsync(new TasksProgressRunningParams(1), CancellationToken.None));
    }

    [Fact]
    public async Task TasksDeleteFinished_TakesTheTasksProgressWithThem()
    {
        var tasks = await InsertAsync(Task(), Task());
        await ClaimAsync(2);
        Assert.True(await ProgressAsync(tasks[0].Id, 50, "going"));
        Assert.True(await ProgressAsync(tasks[1].Id, 60, "staying"));
        Assert.True(await CompleteAsync(new TaskCompletion(tasks[0].Id, "n1", 1, CompletionKind.Succeeded, T0.AddSeconds(2))));

        Assert.Equal(1, await Store.TasksDeleteFinishedAsync(new TasksDeleteFinishedParams(T0.AddSeconds(10), 10), CancellationToken.None));

        Assert.Equal([tasks[1].Id], (await Store.TasksProgressGetAsync([tasks[0].Id, tasks[1].Id], CancellationToken.None)).Select(p => p.Id));
    }
}
