using TaskSystem.Storage;

namespace TaskSystem.Tests.Storage;

/// <summary>Bulk deletes: finished tasks only, counters kept right.</summary>
public abstract partial class StoreContractTests
{
    [Fact]
    public async Task TasksDelete_RemovesOnlyFinishedTasks_AndTheCountsFollow()
    {
        var tasks = await InsertAsync(Task(queue: "q"), Task(queue: "q"), Task(queue: "q"), Task(queue: "q"));
        await ClaimAsync(2);
        Assert.True(await CompleteAsync(new TaskCompletion(tasks[0].Id, "n1", 1, CompletionKind.Succeeded, T0.AddSeconds(1))));

        var deleted = await Store.TasksDeleteAsync([tasks[0].Id, tasks[1].Id, tasks[2].Id, 999_999], CancellationToken.None);

        Assert.Equal(1, deleted);
        Assert.Null(await Store.TaskGetAsync(tasks[0].Id, CancellationToken.None));
        Assert.Equal((TaskState.Running, TaskState.Queued), ((await GetAsync(tasks[1].Id)).State, (await GetAsync(tasks[2].Id)).State));
        var counts = await Store.TasksCountByStateAsync(CancellationToken.None);
        Assert.Equal((0L, 1L, 2L), (counts.GetValueOrDefault(TaskState.Succeeded), counts.GetValueOrDefault(TaskState.Running), counts.GetValueOrDefault(TaskState.Queued)));
        Assert.DoesNotContain(await Store.TasksCountByQueueAsync(CancellationToken.None), c => c.State == TaskState.Succeeded && c.Count != 0);
        Assert.Equal(0, await Store.TasksDeleteAsync([], CancellationToken.None));
    }
}
