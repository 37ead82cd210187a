using TaskSystem.Storage;

namespace TaskSystem.Tests.Storage;

/// <summary>Continuations: awaiting children settled in the transaction that finishes their parents.</summary>
public abstract partial class StoreContractTests
{
    private protected static NewTask Child(params long[] after) => Task() with { After = after };

    /// <summary>Claims the next queued task, which must be <paramref name="id"/>, and writes its outcome.</summary>
    private protected async Task FinishAsync(long id, CompletionKind kind, long claim, string? result = null)
    {
        var claimed = await ClaimAsync(1, claim: claim);
        Assert.Equal([id], claimed.Select(t => t.Id));
        Assert.True(await CompleteAsync(new TaskCompletion(id, "n1", claim, kind, T0.AddSeconds(claim), ResultJson: result, Error: kind == CompletionKind.Failed ? "boom" : null)));
    }

    [Fact]
    public async Task TasksInsert_WithUnfinishedParents_IsAwaiting_AndQueuedWhenTheLastParentSucceeds()
    {
        var released = 0;
        Store.TasksReleased = () => Interlocked.Increment(ref released);
        var parents = await InsertAsync(Task(), Task(priority: 1));
        var child = (await InsertAsync(Child(parents[0].Id, parents[1].Id)))[0];
        Assert.Equal(TaskState.Awaiting, child.State);

        await FinishAsync(parents[0].Id, CompletionKind.Succeeded, claim: 1, result: """{"n":1}""");
        Assert.Equal((TaskState.Awaiting, 0), ((await GetAsync(child.Id)).State, released));

        await FinishAsync(parents[1].Id, CompletionKind.Succeeded, claim: 2);
        Assert.Equal((TaskState.Queued, 1), ((await GetAsync(child.Id)).State, released));
        Assert.Equal([child.Id], (await ClaimAsync(10, claim: 3)).Select(t => t.Id));
        var links = await Store.TaskParentsListAsync(child.Id, CancellationToken.None);
        Assert.Equal([(parents[0].Id, TaskState.Succeeded, """{"n":1}"""), (parents[1].Id, TaskState.Succeeded, null)],
            links.Select(p => (p.Id, p.State, p.ResultJson?.Replace(" ", "", StringComparison.Ordinal))));
    }

    [Fact]
    public async Task TasksComplete_ParentFailsForGood_CancelsTheChildNamingTheParent_AndItsOwnChildren()
    {
        var parent = (await InsertAsync(Task(maxAttempts: 1)))[0];
        var child = (await InsertAsync(Child(parent.Id)))[0];
        var grandchild = (await InsertAsync(Child(child.Id)))[0];

        await FinishAsync(parent.Id, CompletionKind.Failed, claim: 1);

        var cancelled = await GetAsync(child.Id);
        Assert.Equal((TaskState.Cancelled, $"parent task {parent.Id} failed"), (cancelled.State, cancelled.Error));
        Assert.NotNull(cancelled.FinishedAt);
        Assert.Equal((TaskState.Cancelled, $"parent task {child.Id} was cancelled"), ((await GetAsync(grandchild.Id)).State, (await GetAsync(grandchild.Id)).Error));
        var counts = await Store.TasksCountByStateAsync(CancellationToken.None);
        Assert.Equal((2L, 1L, 0L), (counts[TaskState.Cancelled], counts[TaskState.Failed], counts[TaskState.Awaiting]));
    }

    [Fact]
    public async Task TasksComplete_ParentFails_WithAnyOutcome_QueuesTheChild()
    {
        var parent = (await InsertAsync(Task(maxAttempts: 1)))[0];
        var child = (await InsertAsync(Child(parent.Id) with { AnyOutcome = true }))[0];

        await FinishAsync(parent.Id, CompletionKind.Failed, claim: 1);

        Assert.Equal(TaskState.Queued, (await GetAsync(child.Id)).State);
        Assert.True((await Store.TaskParentsListAsync(child.Id, CancellationToken.None)).Single().AnyOutcome);
    }

    [Fact]
    public async Task TasksInsert_ParentsAlreadyFinished_SettlesTheChildAtOnce()
    {
        var parents = await InsertAsync(Task(), Task(maxAttempts: 1));
        await FinishAsync(parents[0].Id, CompletionKind.Succeeded, claim: 1);
        await FinishAsync(parents[1].Id, CompletionKind.Failed, claim: 2);

        var children = await InsertAsync(Child(parents[0].Id), Child(parents[1].Id), Child(parents[0].Id, parents[1].Id) with { AnyOutcome = true }, Child(parents[0].Id) with { RunAt = T0.AddMinutes(5) });

        Assert.Equal([TaskState.Queued, TaskState.Cancelled, TaskState.Queued, TaskState.Scheduled], children.Select(c => c.State));
        Assert.Equal($"parent task {parents[1].Id} failed", children[1].Error);
        Assert.Equal(children.Select(c => c.State), (await System.Threading.Tasks.Task.WhenAll(children.Select(c => GetAsync(c.Id)))).Select(c => c.State));
    }

    [Fact]
    public async Task TasksInsert_UnknownParent_IsRefusedNamingIt_AndStoresNothing()
    {
        var parent = (await InsertAsync(Task()))[0];

        var refused = await Assert.ThrowsAsync<TaskValidationException>(() => InsertAsync(Task(), Child(parent.Id, 999_999)));

        Assert.Equal(("after", 1), (refused.Field, refused.Index));
        Assert.Contains("999999", refused.Message, StringComparison.Ordinal);
        Assert.Equal(1L, (await Store.TasksCountByStateAsync(CancellationToken.None)).Values.Sum());
    }

    [Fact]
    public async Task TaskCancel_AwaitingChild_IsCancelled_AndSoAreItsChildren()
    {
        var parent = (await InsertAsync(Task()))[0];
        var child = (await InsertAsync(Child(parent.Id)))[0];
        var grandchild = (await InsertAsync(Child(child.Id) with { AnyOutcome = true }))[0];
        var strict = (await InsertAsync(Child(child.Id)))[0];

        var result = await Store.TaskCancelAsync(new TaskCancelParams(child.Id, T0), CancellationToken.None);

        Assert.Equal((TaskCancelOutcome.Cancelled, TaskState.Cancelled), (result.Outcome, result.Task!.State));
        Assert.Equal(TaskState.Queued, (await GetAsync(grandchild.Id)).State);
        Assert.Equal(TaskState.Cancelled, (await GetAsync(strict.Id)).State);
        Assert.Equal(TaskState.Queued, (await GetAsync(parent.Id)).State);
    }

    [Fact]
    public async Task TaskCancel_QueuedParent_CancelsItsChild()
    {
        var parent = (await InsertAsync(Task()))[0];
        var child = (await InsertAsync(Child(parent.Id)))[0];

        await Store.TaskCancelAsync(new TaskCancelParams(parent.Id, T0), CancellationToken.None);

        Assert.Equal((TaskState.Cancelled, $"parent task {parent.Id} was cancelled"), ((await GetAsync(child.Id)).State, (await GetAsync(child.Id)).Error));
    }

    [Fact]
    public async Task TaskRetry_CancelledChild_WaitsForItsParentsAgain_AndIsQueuedOnceTheyHaveSucceeded()
    {
        var parent = (await InsertAsync(Task(maxAttempts: 1)))[0];
        var child = (await InsertAsync(Child(parent.Id)))[0];
        await FinishAsync(parent.Id, CompletionKind.Failed, claim: 1);

        // The parent still failed: the retried child is cancelled again, for the same reason.
        var again = await Store.TaskRetryAsync(new TaskRetryParams(child.Id, T0), CancellationToken.None);
        Assert.Equal(TaskState.Cancelled, again.Task!.State);

        await Store.TaskRetryAsync(new TaskRetryParams(parent.Id, T0), CancellationToken.None);
        var waiting = await Store.TaskRetryAsync(new TaskRetryParams(child.Id, T0), CancellationToken.None);
        Assert.Equal((RetryOutcome.Queued, TaskState.Awaiting), (waiting.Outcome, waiting.Task!.State));

        await FinishAsync(parent.Id, CompletionKind.Succeeded, claim: 2);
        Assert.Equal(TaskState.Queued, (await GetAsync(child.Id)).State);
        var counts = await Store.TasksCountByStateAsync(CancellationToken.None);
        Assert.Equal((0L, 1L, 1L), (counts[TaskState.Cancelled], counts[TaskState.Succeeded], counts[TaskState.Queued]));
    }

    [Fact]
    public async Task TasksRescue_ParentOutOfAttempts_CancelsItsChild()
    {
        var parent = (await InsertAsync(Task(maxAttempts: 1)))[0];
        var child = (await InsertAsync(Child(parent.Id)))[0];
        await ClaimAsync(1, node: "lost");

        var rescued = await Store.TasksRescueAsync(new TasksRescueParams(T0.AddMinutes(5), "n2", 10), CancellationToken.None);

        Assert.Equal(TaskState.Failed, rescued.Single().NewState);
        Assert.Equal(TaskState.Cancelled, (await GetAsync(child.Id)).State);
    }

    [Fact]
    public async Task Continuation_IsDurable_AcrossReopen_AndReleasedAfter()
    {
        var parent = (await InsertAsync(Task()))[0];
        var child = (await InsertAsync(Child(parent.Id)))[0];
        await Store.DisposeAsync();

        Store = await ReopenStoreAsync();
        Assert.Equal(TaskState.Awaiting, (await GetAsync(child.Id)).State);
        await FinishAsync(parent.Id, CompletionKind.Succeeded, claim: 1);

        Assert.Equal(TaskState.Queued, (await GetAsync(child.Id)).State);
    }

    [Fact]
    public async Task TasksDelete_Child_TakesItsLinks()
    {
        var parent = (await InsertAsync(Task()))[0];
        var child = (await InsertAsync(Child(parent.Id)))[0];
        await Store.TaskCancelAsync(new TaskCancelParams(child.Id, T0), CancellationToken.None);

        Assert.Equal(1, await Store.TasksDeleteAsync([child.Id], CancellationToken.None));

        Assert.Empty(await Store.TaskParentsListAsync(child.Id, CancellationToken.None));
        Assert.Equal([TaskState.Awaiting], (await Store.TasksListAsync(new TasksListParams([TaskState.Awaiting], null, null, null, 10), CancellationToken.None)).Select(t => t.State).DefaultIfEmpty(TaskState.Awaiting).Distinct());
    }

    [Fact]
    public async Task TasksComplete_TwoParentsFinishingAtOnceOnTwoWriters_ReleaseTheirSharedChild()
    {
        var other = await SecondWriterAsync();
        await other.MigrateAsync(CancellationToken.None);
        for (var round = 0; round < 20; round++)
        {
            var parents = await InsertAsync(Task(), Task());
            var child = (await InsertAsync(Child(parents[0].Id, parents[1].Id)))[0];
            var claim = 100 + round;
            Assert.Equal(parents.Select(p => p.Id), (await ClaimAsync(2, claim: claim)).Select(t => t.Id).Order());

            var written = await System.Threading.Tasks.Task.WhenAll(
                Store.TasksCompleteAsync(new TasksCompleteParams([new TaskCompletion(parents[0].Id, "n1", claim, CompletionKind.Succeeded, T0)]), CancellationToken.None),
                other.TasksCompleteAsync(new TasksCompleteParams([new TaskCompletion(parents[1].Id, "n1", claim, CompletionKind.Succeeded, T0)]), CancellationToken.None));

            Assert.All(written, w => Assert.True(w[0]));
            Assert.Equal(TaskState.Queued, (await GetAsync(child.Id)).State);
            Assert.Equal([child.Id], (await ClaimAsync(10, claim: 1000 + round)).Select(t => t.Id));
        }
    }

    [Fact]
    public async Task TasksInsert_ChildWhileItsParentFinishesOnAnotherWriter_IsNeverLeftAwaiting()
    {
        var other = await SecondWriterAsync();
        await other.MigrateAsync(CancellationToken.None);
        for (var round = 0; round < 20; round++)
        {
            var parent = (await InsertAsync(Task()))[0];
            var claim = 100 + round;
            Assert.Equal([parent.Id], (await ClaimAsync(1, claim: claim)).Select(t => t.Id));

            var insert = other.TasksInsertAsync(new TasksInsertParams([Child(parent.Id)]), CancellationToken.None);
            var complete = Store.TasksCompleteAsync(new TasksCompleteParams([new TaskCompletion(parent.Id, "n1", claim, CompletionKind.Succeeded, T0)]), CancellationToken.None);
            await System.Threading.Tasks.Task.WhenAll(insert, complete);

            Assert.True((await complete)[0]);
            var child = Assert.Single(await insert);
            Assert.Equal(TaskState.Queued, (await GetAsync(child.Id)).State);
            Assert.Equal([child.Id], (await ClaimAsync(10, claim: 1000 + round)).Select(t => t.Id));
        }
    }
}
