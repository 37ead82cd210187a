using TaskSystem.Storage;

namespace TaskSystem.Tests.Storage;

/// <summary>External workers' claims, leases and rescues: the same fence as a node's, on every store.</summary>
public abstract partial class StoreContractTests
{
    private protected async Task<IReadOnlyList<TaskRecord>> ClaimExternalAsync(
        int limit, string worker = "w1", long claim = 11, DateTimeOffset? now = null, IReadOnlyList<string>? types = null,
        IReadOnlyList<string>? queues = null, TimeSpan? lease = null)
    {
        var at = now ?? T0;
        return await Store.TasksClaimExternalAsync(
            new TasksClaimExternalParams(ExternalHolder.For(worker), claim, limit, types ?? AllTypes, queues, at, at + (lease ?? TimeSpan.FromSeconds(20))),
            CancellationToken.None);
    }

    private Task<TaskLease?> ExtendAsync(long id, string worker = "w1", long claim = 11, DateTimeOffset? until = null) =>
        Store.TaskLeaseExtendAsync(new TaskLeaseExtendParams(id, ExternalHolder.For(worker), claim, until ?? T0.AddSeconds(40)), CancellationToken.None);

    [Fact]
    public async Task TasksClaimExternal_TakesTheNamedTypesAndQueues_InQueueOrder_UnderTheWorker()
    {
        var wanted = await InsertAsync(Task(queue: "images", priority: 1), Task(queue: "images"), Task(queue: "mail"), Task(type: "b", queue: "images"));

        var claimed = await ClaimExternalAsync(limit: 10, types: ["a"], queues: ["images"]);

        Assert.Equal([wanted[1].Id, wanted[0].Id], claimed.Select(t => t.Id));
        Assert.All(claimed, t => Assert.Equal((TaskState.Running, 1, "worker:w1", 11L, T0.AddSeconds(20)), (t.State, t.Attempt, t.Node, t.ClaimId!.Value, t.LeaseExpiresAt)));
        Assert.Equal(TaskState.Queued, (await GetAsync(wanted[2].Id)).State);
        Assert.Equal(TaskState.Queued, (await GetAsync(wanted[3].Id)).State);
    }

    [Fact]
    public async Task TasksClaimExternal_WithoutQueues_TakesEveryQueue_UpToTheLimit_AndPromotesDueTasks()
    {
        await InsertAsync(Task(queue: "x"), Task(queue: "y"), Task(runAt: T0.AddSeconds(5)));

        Assert.Equal(2, (await ClaimExternalAsync(limit: 2)).Count);
        Assert.Empty(await ClaimExternalAsync(limit: 5, claim: 12));
        Assert.Single(await ClaimExternalAsync(limit: 5, claim: 13, now: T0.AddSeconds(5)));
    }

    [Fact]
    public async Task TasksClaimExternal_LeaseNeverRunsPastTheAttemptsTimeout()
    {
        await InsertAsync(Task());

        var claimed = Assert.Single(await ClaimExternalAsync(limit: 1, lease: TimeSpan.FromHours(2)));

        Assert.Equal(T0.AddMinutes(1), claimed.LeaseExpiresAt);
    }

    [Fact]
    public async Task TasksClaimExternal_ConcurrentWorkers_NeverGetTheSameTask()
    {
        await InsertAsync([.. Enumerable.Range(0, 60).Select(_ => Task())]);

        var claims = await System.Threading.Tasks.Task.WhenAll(Enumerable.Range(0, 6).Select(i => ClaimExternalAsync(limit: 15, worker: $"w{i}", claim: 100 + i)));

        var ids = claims.SelectMany(c => c.Select(t => t.Id)).ToList();
        Assert.Equal(60, ids.Count);
        Assert.Equal(60, ids.Distinct().Count());
    }

    [Fact]
    public async Task TasksClaimExternal_IsDurable_AcrossReopen()
    {
        var id = (await InsertAsync(Task()))[0].Id;
        await ClaimExternalAsync(limit: 1);
        await Store.DisposeAsync();

        Store = await ReopenStoreAsync();

        var task = await GetAsync(id);
        Assert.Equal((TaskState.Running, "worker:w1", 11L), (task.State, task.Node, task.ClaimId!.Value));
    }

    [Fact]
    public async Task TaskLeaseExtend_WhileHeld_ExtendsTheLease_AndCarriesTheStopFlag()
    {
        var id = (await InsertAsync(Task()))[0].Id;
        await ClaimExternalAsync(limit: 1);

        var extended = await ExtendAsync(id, until: T0.AddSeconds(45));
        await Store.TaskCancelAsync(new TaskCancelParams(id, T0), CancellationToken.None);
        var stopped = await ExtendAsync(id, until: T0.AddSeconds(50));

        Assert.Equal(new TaskLease(T0.AddSeconds(45), StopRequested: false), extended);
        Assert.Equal(new TaskLease(T0.AddSeconds(50), StopRequested: true), stopped);
        Assert.Equal(T0.AddSeconds(50), (await GetAsync(id)).LeaseExpiresAt);
    }

    [Fact]
    public async Task TaskLeaseExtend_NeverPastTheAttemptsTimeout()
    {
        var id = (await InsertAsync(Task()))[0].Id;
        await ClaimExternalAsync(limit: 1);

        Assert.Equal(T0.AddMinutes(1), (await ExtendAsync(id, until: T0.AddHours(1)))!.ExpiresAt);
    }

    [Fact]
    public async Task TaskLeaseExtend_UnderAnotherLease_OrOnceTheTaskLeftRunning_ChangesNothing()
    {
        var id = (await InsertAsync(Task()))[0].Id;
        await ClaimExternalAsync(limit: 1);

        Assert.Null(await ExtendAsync(id, claim: 12));
        Assert.Null(await ExtendAsync(id, worker: "w2"));
        Assert.Null(await ExtendAsync(999));
        Assert.True(await CompleteAsync(new TaskCompletion(id, "worker:w1", 11, CompletionKind.Succeeded, T0)));
        Assert.Null(await ExtendAsync(id));
        Assert.Null((await GetAsync(id)).LeaseExpiresAt);
    }

    [Fact]
    public async Task TasksComplete_UnderTheWorkersLease_IsFencedLikeANodes_AndALateOneNeverOverwrites()
    {
        var id = (await InsertAsync(Task()))[0].Id;
        await ClaimExternalAsync(limit: 1, worker: "slow", claim: 21, lease: TimeSpan.FromSeconds(5));
        await Store.TasksRescueExternalAsync(new TasksRescueExternalParams(T0.AddSeconds(6), 100), CancellationToken.None);
        await ClaimExternalAsync(limit: 1, worker: "fast", claim: 22, now: T0.AddSeconds(6));
        Assert.True(await CompleteAsync(new TaskCompletion(id, "worker:fast", 22, CompletionKind.Succeeded, T0.AddSeconds(7), ResultJson: "\"second\"")));

        var late = await Store.TasksCompleteAsync(
            new TasksCompleteParams([new TaskCompletion(id, "worker:slow", 21, CompletionKind.Succeeded, T0.AddSeconds(8), ResultJson: "\"first\"")]) { Durable = true },
            CancellationToken.None);

        Assert.False(Assert.Single(late));
        var task = await GetAsync(id);
        Assert.Equal((TaskState.Succeeded, 2, "\"second\"", "worker:fast"), (task.State, task.Attempt, task.ResultJson, task.Node));
    }

    [Fact]
    public async Task TasksRescueExternal_TakesExpiredWorkerLeases_CountingTheAttempt_AndNeverANodesTasks()
    {
        var ids = (await InsertAsync(Task(), Task(), Task())).Select(t => t.Id).ToArray();
        await ClaimAsync(limit: 1, node: "n1");
        await ClaimExternalAsync(limit: 1, worker: "gone", claim: 31, lease: TimeSpan.FromSeconds(10));
        await ClaimExternalAsync(limit: 1, worker: "alive", claim: 32, lease: TimeSpan.FromSeconds(50));

        Assert.Empty(await Store.TasksRescueExternalAsync(new TasksRescueExternalParams(T0.AddSeconds(9), 100), CancellationToken.None));
        var rescued = await Store.TasksRescueExternalAsync(new TasksRescueExternalParams(T0.AddSeconds(40), 100), CancellationToken.None);

        Assert.Equal(new RescuedTask(ids[1], "worker:gone", TaskState.Queued), Assert.Single(rescued));
        var task = await GetAsync(ids[1]);
        Assert.Equal((TaskState.Queued, 1, (DateTimeOffset?)null), (task.State, task.Attempt, task.LeaseExpiresAt));
        Assert.Equal("interrupted: worker gone stopped renewing its lease", Assert.Single(ErrorHistory.Parse(task.ErrorsJson)).Error);
        Assert.Equal(TaskState.Running, (await GetAsync(ids[0])).State);
        Assert.Equal(TaskState.Running, (await GetAsync(ids[2])).State);
        Assert.Equal(2, Assert.Single(await ClaimExternalAsync(limit: 1, worker: "alive", claim: 33, now: T0.AddSeconds(40))).Attempt);
    }

    [Fact]
    public async Task TasksRescueExternal_StoppedOutOfAttemptsOrPastTheTimeout_EndsAsARescueOfANodesTaskWould()
    {
        var ids = (await InsertAsync(Task(), Task(maxAttempts: 1), Task())).Select(t => t.Id).ToArray();
        await ClaimExternalAsync(limit: 1, claim: 41, lease: TimeSpan.FromSeconds(10));
        await ClaimExternalAsync(limit: 1, claim: 42, lease: TimeSpan.FromSeconds(10));
        await ClaimExternalAsync(limit: 1, claim: 43, lease: TimeSpan.FromHours(1));
        await Store.TaskCancelAsync(new TaskCancelParams(ids[0], T0), CancellationToken.None);

        var rescued = await Store.TasksRescueExternalAsync(new TasksRescueExternalParams(T0.AddMinutes(2), 100), CancellationToken.None);

        Assert.Equal([(ids[0], TaskState.Cancelled), (ids[1], TaskState.Failed), (ids[2], TaskState.Queued)], rescued.Select(r => (r.Id, r.NewState)).Order());
        Assert.Equal("stopped; its worker let its lease run out", (await GetAsync(ids[0])).Error);
        Assert.NotNull((await GetAsync(ids[1])).FinishedAt);
        Assert.Equal("timed out: worker w1 did not finish within the task's timeout", (await GetAsync(ids[2])).Error);
    }

    [Fact]
    public async Task TasksRescue_NeverTakesTasksExternalWorkersHold_WhateverTheirLease()
    {
        var ids = (await InsertAsync(Task(), Task())).Select(t => t.Id).ToArray();
        await ClaimAsync(limit: 1, node: "crashed");
        await ClaimExternalAsync(limit: 1, lease: TimeSpan.FromSeconds(5));

        var byLease = await Store.TasksRescueAsync(new TasksRescueParams(T0.AddMinutes(1), "me", 100), CancellationToken.None);
        var all = await Store.TasksRescueAsync(new TasksRescueParams(T0.AddMinutes(1), "me", 100) { AllRunning = true, AllOfNode = "me" }, CancellationToken.None);

        Assert.Equal(ids[0], Assert.Single(byLease).Id);
        Assert.Empty(all);
        Assert.Equal(TaskState.Running, (await GetAsync(ids[1])).State);
    }
}
