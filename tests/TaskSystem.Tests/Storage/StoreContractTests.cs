using TaskSystem.Storage;

namespace TaskSystem.Tests.Storage;

/// <summary>
/// The behaviour every store must have. Each database gets a subclass that says how to make a fresh store;
/// a store change extends this suite, so SQLite and PostgreSQL can never drift apart.
/// </summary>
public abstract partial class StoreContractTests : IAsyncLifetime
{
    protected static readonly DateTimeOffset T0 = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);
    protected static readonly string[] AllTypes = ["a", "b"];

    private protected ITaskStore Store { get; private set; } = null!;

    /// <summary>A new, empty store on a database of its own.</summary>
    private protected abstract Task<ITaskStore> CreateStoreAsync();

    /// <summary>The same database, opened again as after a restart.</summary>
    private protected abstract Task<ITaskStore> ReopenStoreAsync();

    /// <summary>A store on another new, empty database that nobody has migrated (the test disposes it).</summary>
    private protected abstract Task<ITaskStore> CreateUnmigratedStoreAsync();

    public async Task InitializeAsync()
    {
        Store = await CreateStoreAsync();
        await Store.MigrateAsync(CancellationToken.None);
    }

    public virtual async Task DisposeAsync() => await Store.DisposeAsync();

    private protected static NewTask Task(string type = "a", int priority = 0, DateTimeOffset? runAt = null, string queue = "default", int maxAttempts = 3, string payload = "{}") =>
        new(type, queue, priority, payload, maxAttempts, TimeSpan.FromMinutes(1), T0, runAt ?? T0);

    private protected async Task<IReadOnlyList<TaskRecord>> InsertAsync(params NewTask[] tasks) =>
        await Store.TasksInsertAsync(new TasksInsertParams(tasks), CancellationToken.None);

    private protected async Task<IReadOnlyList<TaskRecord>> ClaimAsync(int limit, string node = "n1", long claim = 1, DateTimeOffset? now = null, IReadOnlyList<string>? types = null)
    {
        var at = now ?? T0;
        return await Store.TasksClaimAsync(new TasksClaimParams(node, claim, limit, types ?? AllTypes, at, at.AddSeconds(30)), CancellationToken.None);
    }

    private protected async Task<TaskRecord> GetAsync(long id) => (await Store.TaskGetAsync(id, CancellationToken.None))!;

    private protected async Task<bool> CompleteAsync(TaskCompletion completion) =>
        (await Store.TasksCompleteAsync(new TasksCompleteParams([completion]), CancellationToken.None))[0];

    [Fact]
    public async Task TasksInsert_ReturnsIncreasingIds_AndTheRowsReadBack()
    {
        var inserted = await InsertAsync(Task(payload: """{"x":1}"""), Task(type: "b", priority: 5, queue: "mail"));

        Assert.Equal(2, inserted.Count);
        Assert.True(inserted[1].Id > inserted[0].Id);
        var second = await GetAsync(inserted[1].Id);
        Assert.Equal(("b", 5, "mail", TaskState.Queued, 0, 3), (second.Type, second.Priority, second.Queue, second.State, second.Attempt, second.MaxAttempts));
        Assert.Equal(T0, second.CreatedAt);
        Assert.Equal(TimeSpan.FromMinutes(1), second.Timeout);
        Assert.Equal("""{"x":1}""", (await GetAsync(inserted[0].Id)).PayloadJson.Replace(" ", "", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TasksInsert_WithFutureRunAt_IsScheduled()
    {
        var inserted = await InsertAsync(Task(runAt: T0.AddMinutes(5)));

        Assert.Equal(TaskState.Scheduled, (await GetAsync(inserted[0].Id)).State);
    }

    [Fact]
    public async Task TaskGet_UnknownId_ReturnsNull() =>
        Assert.Null(await Store.TaskGetAsync(12345, CancellationToken.None));

    [Fact]
    public async Task TasksInsert_IsDurable_AcrossReopen()
    {
        var inserted = await InsertAsync(Task(), Task());
        await Store.DisposeAsync();

        Store = await ReopenStoreAsync();

        Assert.Equal(TaskState.Queued, (await GetAsync(inserted[1].Id)).State);
    }

    [Fact]
    public async Task TasksInsert_ConcurrentCallers_ShareCommits_AndAllAreDurable()
    {
        var inserts = await System.Threading.Tasks.Task.WhenAll(Enumerable.Range(0, 500).Select(_ =>
            Store.TasksInsertAsync(new TasksInsertParams([Task()]), CancellationToken.None)));
        await Store.DisposeAsync();

        Store = await ReopenStoreAsync();
        var counts = await Store.TasksCountByStateAsync(CancellationToken.None);

        Assert.Equal(500, inserts.Select(i => i[0].Id).Distinct().Count());
        Assert.Equal(500L, counts[TaskState.Queued]);
    }

    [Fact]
    public async Task TasksInsert_ManyAtOnce_ReturnsIdsInTheOrderGiven()
    {
        var inserted = await InsertAsync([.. Enumerable.Range(0, 50).Select(i => Task(payload: $$"""{"i":{{i}}}"""))]);

        for (var i = 0; i < inserted.Count; i++)
        {
            Assert.Equal($$"""{"i":{{i}}}""", (await GetAsync(inserted[i].Id)).PayloadJson);
        }
    }

    [Fact]
    public async Task TasksInsert_KeepsThePayloadByteForByte_EvenWhatJsonbWouldRefuse()
    {
        const string Payload = """{"b": 1,  "a": "nul \u0000 here"}""";

        var id = (await InsertAsync(Task(payload: Payload)))[0].Id;

        Assert.Equal(Payload, (await GetAsync(id)).PayloadJson);
    }

    [Fact]
    public async Task TasksInsert_WithAnOffsetRunAt_IsStoredAsTheSameInstant()
    {
        var runAt = new DateTimeOffset(2030, 1, 1, 14, 0, 0, TimeSpan.FromHours(2));

        var id = (await InsertAsync(Task(runAt: runAt)))[0].Id;

        Assert.Equal(runAt, (await GetAsync(id)).RunAt);
    }

    [Fact]
    public async Task TasksInsert_OnAFreshDatabase_BeforeMigrate_MigratesFirst()
    {
        await using var fresh = await CreateUnmigratedStoreAsync();

        var inserted = await fresh.TasksInsertAsync(new TasksInsertParams([Task()]), CancellationToken.None);

        Assert.Equal(TaskState.Queued, (await fresh.TaskGetAsync(inserted[0].Id, CancellationToken.None))!.State);
    }

    [Fact]
    public async Task TasksClaim_TakesPriorityThenRunAtThenId_AndCountsAnAttempt()
    {
        var low = await InsertAsync(Task(priority: 5));
        var laterRunAt = await InsertAsync(Task(runAt: T0.AddSeconds(-1)));
        var first = await InsertAsync(Task(runAt: T0.AddSeconds(-2)));
        var sameTimeLaterId = await InsertAsync(Task(runAt: T0.AddSeconds(-1)));

        var claimed = await ClaimAsync(limit: 3);

        Assert.Equal([first[0].Id, laterRunAt[0].Id, sameTimeLaterId[0].Id], claimed.Select(t => t.Id));
        Assert.All(claimed, t => Assert.Equal((TaskState.Running, 1, "n1", 1L), (t.State, t.Attempt, t.Node, t.ClaimId!.Value)));
        Assert.Equal(TaskState.Queued, (await GetAsync(low[0].Id)).State);
    }

    [Fact]
    public async Task TasksClaim_NeverTakesMoreThanTheLimit()
    {
        await InsertAsync([.. Enumerable.Range(0, 10).Select(_ => Task())]);

        Assert.Equal(4, (await ClaimAsync(limit: 4)).Count);
        Assert.Equal(6, (await ClaimAsync(limit: 100)).Count);
        Assert.Empty(await ClaimAsync(limit: 100));
    }

    [Fact]
    public async Task TasksClaim_LeavesFutureTasks_AndTakesThemWhenDue()
    {
        var scheduled = await InsertAsync(Task(runAt: T0.AddMinutes(1)));

        Assert.Empty(await ClaimAsync(limit: 5));
        var claimed = await ClaimAsync(limit: 5, now: T0.AddMinutes(1));

        Assert.Equal(scheduled[0].Id, Assert.Single(claimed).Id);
    }

    [Fact]
    public async Task TasksClaim_PromotesDueScheduledTasksToQueued_WhateverTheirType()
    {
        var ids = (await InsertAsync(Task(type: "b", runAt: T0.AddSeconds(10)), Task(type: "b", runAt: T0.AddMinutes(10)))).Select(t => t.Id).ToArray();

        Assert.Empty(await ClaimAsync(limit: 5, now: T0.AddSeconds(10), types: ["a"]));

        Assert.Equal(TaskState.Queued, (await GetAsync(ids[0])).State);
        Assert.Equal(TaskState.Scheduled, (await GetAsync(ids[1])).State);
    }

    [Fact]
    public async Task TasksClaim_AcrossTypes_KeepsTheGlobalOrder()
    {
        var ids = (await InsertAsync(Task(type: "b", runAt: T0.AddSeconds(-3)), Task(type: "a", runAt: T0.AddSeconds(-2)), Task(type: "b", runAt: T0.AddSeconds(-1)), Task(type: "a", priority: -1)))
            .Select(t => t.Id).ToArray();

        var claimed = await ClaimAsync(limit: 3);

        Assert.Equal([ids[3], ids[0], ids[1]], claimed.Select(t => t.Id));
    }

    [Fact]
    public async Task TasksClaim_TakesOnlyTheGivenTypes()
    {
        await InsertAsync(Task(type: "a"), Task(type: "b"));

        var claimed = await ClaimAsync(limit: 5, types: ["b"]);

        Assert.Equal("b", Assert.Single(claimed).Type);
    }

    [Fact]
    public async Task TasksClaim_ConcurrentClaimers_NeverGetTheSameTask()
    {
        await InsertAsync([.. Enumerable.Range(0, 200).Select(_ => Task())]);

        var claims = await System.Threading.Tasks.Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            System.Threading.Tasks.Task.Run(async () =>
            {
                var mine = new List<long>();
                IReadOnlyList<TaskRecord> batch;
                do
                {
                    batch = await ClaimAsync(limit: 7, node: $"n{i}", claim: i + 1);
                    mine.AddRange(batch.Select(t => t.Id));
                }
                while (batch.Count > 0);
                return mine;
            })));

        var all = claims.SelectMany(c => c).ToList();
        Assert.Equal(200, all.Count);
        Assert.Equal(200, all.Distinct().Count());
    }

    [Fact]
    public async Task TasksComplete_Succeeded_WritesTheResult()
    {
        var id = (await InsertAsync(Task()))[0].Id;
        await ClaimAsync(limit: 1);

        var applied = await CompleteAsync(new TaskCompletion(id, "n1", 1, CompletionKind.Succeeded, T0.AddSeconds(1), ResultJson: """{"ok":true}"""));

        Assert.True(applied);
        var task = await GetAsync(id);
        Assert.Equal((TaskState.Succeeded, T0.AddSeconds(1)), (task.State, task.FinishedAt));
        Assert.Equal("""{"ok":true}""", task.ResultJson!.Replace(" ", "", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("n2", 1)]
    [InlineData("n1", 2)]
    public async Task TasksComplete_WithAnotherNodeOrClaim_IsFencedOff(string node, long claim)
    {
        var id = (await InsertAsync(Task()))[0].Id;
        await ClaimAsync(limit: 1, node: "n1", claim: 1);

        var applied = await CompleteAsync(new TaskCompletion(id, node, claim, CompletionKind.Succeeded, T0));

        Assert.False(applied);
        Assert.Equal(TaskState.Running, (await GetAsync(id)).State);
    }

    [Fact]
    public async Task TasksComplete_AfterTheTaskLeftRunning_IsFencedOff()
    {
        var id = (await InsertAsync(Task()))[0].Id;
        await ClaimAsync(limit: 1);
        Assert.True(await CompleteAsync(new TaskCompletion(id, "n1", 1, CompletionKind.Failed, T0, Error: "boom")));

        var late = await CompleteAsync(new TaskCompletion(id, "n1", 1, CompletionKind.Succeeded, T0));

        Assert.False(late);
        Assert.Equal(TaskState.Failed, (await GetAsync(id)).State);
    }

    [Fact]
    public async Task TasksComplete_Retry_SchedulesAndKeepsTheError()
    {
        var id = (await InsertAsync(Task()))[0].Id;
        await ClaimAsync(limit: 1);

        await CompleteAsync(new TaskCompletion(id, "n1", 1, CompletionKind.Retry, T0, Error: "boom", RunAt: T0.AddSeconds(10)));

        var task = await GetAsync(id);
        Assert.Equal((TaskState.Scheduled, T0.AddSeconds(10), "boom", (DateTimeOffset?)null), (task.State, task.RunAt, task.Error, task.FinishedAt));
        var error = Assert.Single(ErrorHistory.Parse(task.ErrorsJson));
        Assert.Equal((1, "boom", T0), (error.Attempt, error.Error, error.At));
    }

    [Fact]
    public async Task TasksComplete_RetryOfAStoppedTask_CancelsInstead()
    {
        var id = (await InsertAsync(Task()))[0].Id;
        await ClaimAsync(limit: 1);
        await Store.TaskCancelAsync(new TaskCancelParams(id, T0), CancellationToken.None);

        await CompleteAsync(new TaskCompletion(id, "n1", 1, CompletionKind.Retry, T0, Error: "boom", RunAt: T0.AddSeconds(10)));

        Assert.Equal(TaskState.Cancelled, (await GetAsync(id)).State);
    }

    [Fact]
    public async Task TasksComplete_SuccessOfAStoppedTask_CancelsInstead_KeepingTheResult()
    {
        var id = (await InsertAsync(Task()))[0].Id;
        await ClaimAsync(limit: 1);
        await Store.TaskCancelAsync(new TaskCancelParams(id, T0), CancellationToken.None);

        var applied = await CompleteAsync(new TaskCompletion(id, "n1", 1, CompletionKind.Succeeded, T0.AddSeconds(1), ResultJson: """{"done":3}"""));

        var task = await GetAsync(id);
        Assert.True(applied);
        Assert.Equal((TaskState.Cancelled, T0.AddSeconds(1), StopErrors.ReturnedAfterStop), (task.State, task.FinishedAt, task.Error));
        Assert.Equal("""{"done":3}""", task.ResultJson!.Replace(" ", "", StringComparison.Ordinal));
        Assert.Equal(TaskCancelOutcome.AlreadyCancelled, (await Store.TaskCancelAsync(new TaskCancelParams(id, T0), CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task TasksComplete_FailureOfAStoppedTask_CancelsInstead_KeepingTheError()
    {
        var id = (await InsertAsync(Task(maxAttempts: 1)))[0].Id;
        await ClaimAsync(limit: 1);
        await Store.TaskCancelAsync(new TaskCancelParams(id, T0), CancellationToken.None);

        await CompleteAsync(new TaskCompletion(id, "n1", 1, CompletionKind.Failed, T0, Error: "boom"));

        var task = await GetAsync(id);
        Assert.Equal((TaskState.Cancelled, "boom"), (task.State, task.Error));
        Assert.Equal("boom", Assert.Single(ErrorHistory.Parse(task.ErrorsJson)).Error);
    }

    [Fact]
    public async Task TasksComplete_Cancelled_KeepsTheResultTheHandlerReturned()
    {
        var ids = (await InsertAsync(Task(), Task())).Select(t => t.Id).ToArray();
        await ClaimAsync(limit: 2);

        await CompleteAsync(new TaskCompletion(ids[0], "n1", 1, CompletionKind.Cancelled, T0, ResultJson: """{"partial":true}""", Error: "stopped"));
        await CompleteAsync(new TaskCompletion(ids[1], "n1", 1, CompletionKind.Cancelled, T0, Error: "stopped"));

        var withResult = await GetAsync(ids[0]);
        Assert.Equal((TaskState.Cancelled, "stopped"), (withResult.State, withResult.Error));
        Assert.Equal("""{"partial":true}""", withResult.ResultJson!.Replace(" ", "", StringComparison.Ordinal));
        Assert.Null((await GetAsync(ids[1])).ResultJson);
    }

    [Fact]
    public async Task TasksComplete_Released_GoesBackToTheQueueWithoutCountingTheAttempt()
    {
        var id = (await InsertAsync(Task()))[0].Id;
        await ClaimAsync(limit: 1);

        await CompleteAsync(new TaskCompletion(id, "n1", 1, CompletionKind.Released, T0, Error: "shutdown"));

        var task = await GetAsync(id);
        Assert.Equal((TaskState.Queued, 0), (task.State, task.Attempt));
        Assert.Equal(id, Assert.Single(await ClaimAsync(limit: 1, claim: 2)).Id);
    }

    [Fact]
    public async Task TasksComplete_Interrupted_RequeuesWithoutCountingTheAttempt_AndRecordsWhy()
    {
        var id = (await InsertAsync(Task()))[0].Id;
        await ClaimAsync(limit: 1);

        Assert.True(await CompleteAsync(new TaskCompletion(id, "n1", 1, CompletionKind.Interrupted, T0, Error: "interrupted: lease not renewed")));

        var task = await GetAsync(id);
        Assert.Equal((TaskState.Queued, 0, "interrupted: lease not renewed", (DateTimeOffset?)null), (task.State, task.Attempt, task.Error, task.FinishedAt));
        Assert.Empty(ErrorHistory.Parse(task.ErrorsJson));
        Assert.Equal(1, Assert.Single(await ClaimAsync(limit: 1, claim: 2)).Attempt);
    }

    [Fact]
    public async Task TasksComplete_Interrupted_WithAStopRequest_IsCancelled_AndFencedLikeAnyOutcome()
    {
        var ids = (await InsertAsync(Task(), Task())).Select(t => t.Id).ToArray();
        await ClaimAsync(limit: 2);
        await Store.TaskCancelAsync(new TaskCancelParams(ids[0], T0), CancellationToken.None);

        var applied = await Store.TasksCompleteAsync(new TasksCompleteParams(
        [
            new TaskCompletion(ids[0], "n1", 1, CompletionKind.Interrupted, T0, Error: "interrupted"),
            new TaskCompletion(ids[1], "n1", 7, CompletionKind.Interrupted, T0, Error: "interrupted"),
        ]), CancellationToken.None);

        Assert.Equal([true, false], applied);
        var stopped = await GetAsync(ids[0]);
        Assert.Equal((TaskState.Cancelled, 1), (stopped.State, stopped.Attempt));
        Assert.NotNull(stopped.FinishedAt);
        Assert.Equal((TaskState.Running, 1), ((await GetAsync(ids[1])).State, (await GetAsync(ids[1])).Attempt));
    }

    [Fact]
    public async Task TasksComplete_ManyInOneCall_AppliesEachOnItsOwn()
    {
        var ids = (await InsertAsync(Task(), Task(), Task())).Select(t => t.Id).ToArray();
        await ClaimAsync(limit: 3);

        var applied = await Store.TasksCompleteAsync(new TasksCompleteParams(
        [
            new TaskCompletion(ids[0], "n1", 1, CompletionKind.Succeeded, T0),
            new TaskCompletion(ids[1], "n1", 99, CompletionKind.Succeeded, T0),
            new TaskCompletion(ids[2], "n1", 1, CompletionKind.Failed, T0, Error: "x"),
        ]), CancellationToken.None);

        Assert.Equal([true, false, true], applied);
        Assert.Equal(TaskState.Running, (await GetAsync(ids[1])).State);
    }

    [Fact]
    public async Task TaskCancel_Queued_IsCancelledAndNeverClaimed()
    {
        var id = (await InsertAsync(Task()))[0].Id;

        var result = await Store.TaskCancelAsync(new TaskCancelParams(id, T0), CancellationToken.None);

        Assert.Equal((TaskCancelOutcome.Cancelled, TaskState.Cancelled), (result.Outcome, result.Task!.State));
        Assert.Empty(await ClaimAsync(limit: 5));
    }

    [Fact]
    public async Task TaskCancel_Running_SetsTheFlagAndTheOwnerSeesIt()
    {
        var id = (await InsertAsync(Task()))[0].Id;
        await ClaimAsync(limit: 1, node: "n7");

        var result = await Store.TaskCancelAsync(new TaskCancelParams(id, T0), CancellationToken.None);

        Assert.Equal((TaskCancelOutcome.StopRequested, TaskState.Running, true, "n7"), (result.Outcome, result.Task!.State, result.Task.StopRequested, result.Task.Node));
        Assert.Equal([id], await Store.TasksStopRequestedAsync(new TasksStopRequestedParams("n7"), CancellationToken.None));
        Assert.Empty(await Store.TasksStopRequestedAsync(new TasksStopRequestedParams("n8"), CancellationToken.None));
    }

    [Fact]
    public async Task TaskCancel_FinishedOrMissing_SaysSo()
    {
        var ids = (await InsertAsync(Task(), Task())).Select(t => t.Id).ToArray();
        await Store.TaskCancelAsync(new TaskCancelParams(ids[0], T0), CancellationToken.None);
        await ClaimAsync(limit: 1);
        await CompleteAsync(new TaskCompletion(ids[1], "n1", 1, CompletionKind.Succeeded, T0));

        Assert.Equal(TaskCancelOutcome.AlreadyCancelled, (await Store.TaskCancelAsync(new TaskCancelParams(ids[0], T0), CancellationToken.None)).Outcome);
        Assert.Equal(TaskCancelOutcome.AlreadyFinished, (await Store.TaskCancelAsync(new TaskCancelParams(ids[1], T0), CancellationToken.None)).Outcome);
        Assert.Equal(TaskCancelOutcome.NotFound, (await Store.TaskCancelAsync(new TaskCancelParams(999, T0), CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task TaskRetry_FailedOrCancelled_GoesBackToTheQueueWithFreshAttempts()
    {
        var ids = (await InsertAsync(Task(maxAttempts: 1), Task())).Select(t => t.Id).ToArray();
        await Store.TaskCancelAsync(new TaskCancelParams(ids[1], T0), CancellationToken.None);
        await ClaimAsync(limit: 1);
        await CompleteAsync(new TaskCompletion(ids[0], "n1", 1, CompletionKind.Failed, T0, Error: "boom"));

        var failed = await Store.TaskRetryAsync(new TaskRetryParams(ids[0], T0.AddMinutes(1)), CancellationToken.None);
        var cancelled = await Store.TaskRetryAsync(new TaskRetryParams(ids[1], T0.AddMinutes(1)), CancellationToken.None);

        Assert.Equal((RetryOutcome.Queued, TaskState.Queued, 0, (string?)null), (failed.Outcome, failed.Task!.State, failed.Task.Attempt, failed.Task.Error));
        Assert.Single(ErrorHistory.Parse(failed.Task.ErrorsJson));
        Assert.Equal((RetryOutcome.Queued, false), (cancelled.Outcome, cancelled.Task!.StopRequested));
        Assert.Equal(2, (await ClaimAsync(limit: 5, now: T0.AddMinutes(1), claim: 2)).Count);
    }

    [Fact]
    public async Task TaskRetry_NotFailedOrMissing_IsRefused()
    {
        var id = (await InsertAsync(Task()))[0].Id;

        Assert.Equal(RetryOutcome.NotRetryable, (await Store.TaskRetryAsync(new TaskRetryParams(id, T0), CancellationToken.None)).Outcome);
        Assert.Equal(RetryOutcome.NotFound, (await Store.TaskRetryAsync(new TaskRetryParams(999, T0), CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task TasksRescue_ExpiredLease_RequeuesCountingTheAttempt()
    {
        var id = (await InsertAsync(Task()))[0].Id;
        await ClaimAsync(limit: 1, node: "dead");

        Assert.Empty(await Store.TasksRescueAsync(new TasksRescueParams(T0.AddSeconds(29), "alive", 100), CancellationToken.None));
        var rescued = await Store.TasksRescueAsync(new TasksRescueParams(T0.AddSeconds(31), "alive", 100), CancellationToken.None);

        Assert.Equal(new RescuedTask(id, "dead", TaskState.Queued), Assert.Single(rescued));
        var task = await GetAsync(id);
        Assert.Equal((TaskState.Queued, 1), (task.State, task.Attempt));
        Assert.Contains("dead", Assert.Single(ErrorHistory.Parse(task.ErrorsJson)).Error, StringComparison.Ordinal);
        Assert.Equal(2, Assert.Single(await ClaimAsync(limit: 1, node: "alive", claim: 2, now: T0.AddSeconds(31))).Attempt);
    }

    [Fact]
    public async Task TasksRescue_NeverTakesTheRescuersOwnTasksByLease()
    {
        await InsertAsync(Task());
        await ClaimAsync(limit: 1, node: "me");

        Assert.Empty(await Store.TasksRescueAsync(new TasksRescueParams(T0.AddHours(1), "me", 100), CancellationToken.None));
    }

    [Fact]
    public async Task TasksRescue_WithWhatTheRescuerHolds_TakesItsOwnExpiredTasksItNoLongerHolds_Only()
    {
        // Attempts whose outcome a database crash lost: running under the rescuer, renewed by no heartbeat.
        await InsertAsync(Task(), Task(), Task());
        var claimed = await ClaimAsync(limit: 3, node: "me");
        var (held, lost, fresh) = (claimed[0].Id, claimed[1].Id, claimed[2].Id);
        await Store.NodeHeartbeatAsync(new NodeHeartbeatParams("me", T0.AddMinutes(1), T0.AddMinutes(2), T0, 5, 1) { Held = [new HeldClaim(fresh, claimed[2].ClaimId!.Value)] }, CancellationToken.None);

        var rescued = await Store.TasksRescueAsync(new TasksRescueParams(T0.AddMinutes(1), "me", 100) { Held = [held] }, CancellationToken.None);

        Assert.Equal(lost, Assert.Single(rescued).Id);
        Assert.Equal((TaskState.Running, TaskState.Queued, TaskState.Running), ((await GetAsync(held)).State, (await GetAsync(lost)).State, (await GetAsync(fresh)).State));
    }

    [Fact]
    public async Task TasksRescue_StoppedTask_IsCancelledNotRerun()
    {
        var id = (await InsertAsync(Task()))[0].Id;
        await ClaimAsync(limit: 1, node: "dead");
        await Store.TaskCancelAsync(new TaskCancelParams(id, T0), CancellationToken.None);

        var rescued = await Store.TasksRescueAsync(new TasksRescueParams(T0.AddMinutes(1), "alive", 100), CancellationToken.None);

        Assert.Equal(TaskState.Cancelled, Assert.Single(rescued).NewState);
        Assert.Empty(await ClaimAsync(limit: 1, now: T0.AddMinutes(1), claim: 2));
    }

    [Fact]
    public async Task TasksRescue_OutOfAttempts_Fails()
    {
        var id = (await InsertAsync(Task(maxAttempts: 1)))[0].Id;
        await ClaimAsync(limit: 1, node: "dead");

        await Store.TasksRescueAsync(new TasksRescueParams(T0.AddMinutes(1), "alive", 100), CancellationToken.None);

        var task = await GetAsync(id);
        Assert.Equal(TaskState.Failed, task.State);
        Assert.NotNull(task.FinishedAt);
    }

    [Fact]
    public async Task TasksRescue_AllOfNodeOrAllRunning_TakesEverythingWhateverTheLease()
    {
        await InsertAsync(Task(), Task(), Task());
        await ClaimAsync(limit: 1, node: "me", claim: 1);
        await ClaimAsync(limit: 1, node: "other", claim: 2);
        await ClaimAsync(limit: 1, node: "third", claim: 3);

        var mine = await Store.TasksRescueAsync(new TasksRescueParams(T0, "me", 100) { AllOfNode = "me" }, CancellationToken.None);
        var rest = await Store.TasksRescueAsync(new TasksRescueParams(T0, "me", 100) { AllRunning = true }, CancellationToken.None);

        Assert.Equal("me", Assert.Single(mine).FromNode);
        Assert.Equal(["other", "third"], rest.Select(r => r.FromNode).Order());
    }

    [Fact]
    public async Task NodeHeartbeat_ExtendsTheLeasesOfTheNodesTasks_AndListsTheNode()
    {
        var id = (await InsertAsync(Task()))[0].Id;
        await ClaimAsync(limit: 1, node: "n1");

        var renewed = await Store.NodeHeartbeatAsync(
            new NodeHeartbeatParams("n1", T0.AddSeconds(20), T0.AddSeconds(50), T0, 5, 1) { Held = [new HeldClaim(id, 1)] }, CancellationToken.None);

        Assert.Equal([id], renewed);
        Assert.Equal(T0.AddSeconds(50), (await GetAsync(id)).LeaseExpiresAt);
        Assert.Empty(await Store.TasksRescueAsync(new TasksRescueParams(T0.AddSeconds(40), "n2", 100), CancellationToken.None));
        var node = Assert.Single(await Store.NodesListAsync(CancellationToken.None));
        Assert.Equal(new NodeRecord("n1", T0, T0.AddSeconds(20), 5, 1), node);

        await Store.NodeRemoveAsync("n1", CancellationToken.None);
        Assert.Empty(await Store.NodesListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task NodeHeartbeat_RenewsOnlyTheAttemptsTheNodeHolds_SoAStrandedRowExpiresAndIsRescued()
    {
        var ids = (await InsertAsync(Task(), Task(), Task(), Task())).Select(t => t.Id).ToArray();
        await ClaimAsync(limit: 1, node: "n1", claim: 1);
        await ClaimAsync(limit: 1, node: "n1", claim: 2);
        await ClaimAsync(limit: 1, node: "n1", claim: 3);
        await ClaimAsync(limit: 1, node: "n2", claim: 4);

        // Holds the first; names the second with a claim it does not have; does not know the third (stranded);
        // names the fourth, which another node runs.
        var renewed = await Store.NodeHeartbeatAsync(
            new NodeHeartbeatParams("n1", T0.AddSeconds(20), T0.AddSeconds(50), T0, 5, 1)
            {
                Held = [new HeldClaim(ids[0], 1), new HeldClaim(ids[1], 99), new HeldClaim(ids[3], 4)],
            },
            CancellationToken.None);

        Assert.Equal([ids[0]], renewed);
        Assert.Equal(
            [T0.AddSeconds(50), T0.AddSeconds(30), T0.AddSeconds(30), T0.AddSeconds(30)],
            [(await GetAsync(ids[0])).LeaseExpiresAt, (await GetAsync(ids[1])).LeaseExpiresAt, (await GetAsync(ids[2])).LeaseExpiresAt, (await GetAsync(ids[3])).LeaseExpiresAt]);
        var rescued = await Store.TasksRescueAsync(new TasksRescueParams(T0.AddSeconds(40), "n3", 100), CancellationToken.None);
        Assert.Equal([ids[1], ids[2], ids[3]], rescued.Select(r => r.Id).Order());
    }

    [Fact]
    public async Task NodeHeartbeat_HoldingNothing_RenewsNothing_AndStillRecordsTheNode()
    {
        var id = (await InsertAsync(Task()))[0].Id;
        await ClaimAsync(limit: 1, node: "n1");

        var renewed = await Store.NodeHeartbeatAsync(new NodeHeartbeatParams("n1", T0.AddSeconds(20), T0.AddSeconds(50), T0, 5, 0), CancellationToken.None);

        Assert.Empty(renewed);
        Assert.Equal(T0.AddSeconds(30), (await GetAsync(id)).LeaseExpiresAt);
        Assert.Equal(T0.AddSeconds(20), Assert.Single(await Store.NodesListAsync(CancellationToken.None)).HeartbeatAt);
    }

    [Fact]
    public async Task NodeStart_NameHeldByALiveNode_IsRefused_AndFreeOnceItsHeartbeatIsStale()
    {
        Assert.True(await Store.NodeStartAsync(new NodeStartParams("n1", T0, T0.AddSeconds(-30), 5), CancellationToken.None));
        await Store.NodeHeartbeatAsync(new NodeHeartbeatParams("n1", T0.AddSeconds(10), T0.AddSeconds(40), T0, 5, 2), CancellationToken.None);

        var whileAlive = await Store.NodeStartAsync(new NodeStartParams("n1", T0.AddSeconds(20), T0.AddSeconds(-10), 3), CancellationToken.None);
        var otherName = await Store.NodeStartAsync(new NodeStartParams("n2", T0.AddSeconds(20), T0.AddSeconds(-10), 3), CancellationToken.None);
        var afterItWentStale = await Store.NodeStartAsync(new NodeStartParams("n1", T0.AddSeconds(50), T0.AddSeconds(20), 3), CancellationToken.None);

        Assert.Equal((false, true, true), (whileAlive, otherName, afterItWentStale));
        var node = (await Store.NodesListAsync(CancellationToken.None)).Single(n => n.Name == "n1");
        Assert.Equal(new NodeRecord("n1", T0.AddSeconds(50), T0.AddSeconds(50), 3, 0), node);
    }

    [Fact]
    public async Task NodeStart_AfterACleanShutdown_IsFree()
    {
        await Store.NodeStartAsync(new NodeStartParams("n1", T0, T0.AddSeconds(-30), 5), CancellationToken.None);
        await Store.NodeRemoveAsync("n1", CancellationToken.None);

        Assert.True(await Store.NodeStartAsync(new NodeStartParams("n1", T0.AddSeconds(1), T0.AddSeconds(-29), 5), CancellationToken.None));
    }

    [Fact]
    public async Task TasksList_FiltersByStateTypeAndQueue_NewestFirst()
    {
        var ids = (await InsertAsync(Task(type: "a"), Task(type: "b", queue: "q2"), Task(type: "a"), Task(type: "b"))).Select(t => t.Id).ToArray();
        await Store.TaskCancelAsync(new TaskCancelParams(ids[2], T0), CancellationToken.None);

        async Task<long[]> List(IReadOnlyCollection<TaskState>? states = null, string? type = null, string? queue = null) =>
            [.. (await Store.TasksListAsync(new TasksListParams(states, type, queue, null, 100), CancellationToken.None)).Select(t => t.Id)];

        Assert.Equal(ids.Reverse(), await List());
        Assert.Equal([ids[3], ids[1], ids[0]], await List([TaskState.Queued]));
        Assert.Equal([ids[3], ids[2], ids[1], ids[0]], await List([TaskState.Queued, TaskState.Cancelled]));
        Assert.Equal([ids[2], ids[0]], await List(type: "a"));
        Assert.Equal([ids[1]], await List(queue: "q2"));
        Assert.Empty(await List([TaskState.Running]));
    }

    [Fact]
    public async Task TasksList_PagesWithBeforeId()
    {
        var ids = (await InsertAsync([.. Enumerable.Range(0, 5).Select(_ => Task())])).Select(t => t.Id).ToArray();

        var first = await Store.TasksListAsync(new TasksListParams([TaskState.Queued], null, null, null, 2), CancellationToken.None);
        var second = await Store.TasksListAsync(new TasksListParams([TaskState.Queued], null, null, first[^1].Id, 2), CancellationToken.None);

        Assert.Equal([ids[4], ids[3]], first.Select(t => t.Id));
        Assert.Equal([ids[2], ids[1]], second.Select(t => t.Id));
    }

    [Fact]
    public async Task TasksCountByState_CountsEveryState()
    {
        var ids = (await InsertAsync(Task(), Task(), Task())).Select(t => t.Id).ToArray();
        await Store.TaskCancelAsync(new TaskCancelParams(ids[0], T0), CancellationToken.None);
        await ClaimAsync(limit: 1);

        var counts = await Store.TasksCountByStateAsync(CancellationToken.None);

        Assert.Equal((1L, 1L, 1L, 0L), (counts[TaskState.Queued], counts[TaskState.Running], counts[TaskState.Cancelled], counts[TaskState.Failed]));
    }

    [Fact]
    public async Task TasksCountByQueue_CountsEachQueueAndState()
    {
        var ids = (await InsertAsync(Task(queue: "mail"), Task(queue: "mail"), Task(queue: "img"))).Select(t => t.Id).ToArray();
        await Store.TaskCancelAsync(new TaskCancelParams(ids[1], T0), CancellationToken.None);

        var counts = await Store.TasksCountByQueueAsync(CancellationToken.None);

        Assert.Equal(
            [new QueueStateCount("img", TaskState.Queued, 1), new QueueStateCount("mail", TaskState.Cancelled, 1), new QueueStateCount("mail", TaskState.Queued, 1)],
            counts.OrderBy(c => c.Queue, StringComparer.Ordinal).ThenBy(c => c.State.ToWire(), StringComparer.Ordinal));
    }

    [Fact]
    public async Task TasksCountUnfinished_CountsQueuedScheduledAndRunningPerQueue_AndNothingFinished()
    {
        var ids = (await InsertAsync(
            Task(queue: "mail"), Task(queue: "mail"), Task(queue: "mail", runAt: T0.AddMinutes(5)), Task(queue: "img"), Task(queue: "img"), Task(queue: "old")))
            .Select(t => t.Id).ToArray();
        await Store.TaskCancelAsync(new TaskCancelParams(ids[1], T0), CancellationToken.None);
        var claimed = await ClaimAsync(limit: 1, types: ["a"], now: T0);
        await Store.TaskCancelAsync(new TaskCancelParams(ids[5], T0), CancellationToken.None);

        var counts = await Store.TasksCountUnfinishedAsync(CancellationToken.None);

        Assert.Equal(ids[0], Assert.Single(claimed).Id);
        Assert.Equal(
            [new QueueStateCount("img", TaskState.Queued, 2), new QueueStateCount("mail", TaskState.Running, 1), new QueueStateCount("mail", TaskState.Scheduled, 1)],
            counts.OrderBy(c => c.Queue, StringComparer.Ordinal).ThenBy(c => c.State.ToWire(), StringComparer.Ordinal));
    }

    [Fact]
    public async Task TasksFinishedHistogram_BucketsFinishedTasksByTimeAndState()
    {
        var ids = (await InsertAsync(Task(), Task(), Task(), Task())).Select(t => t.Id).ToArray();
        await ClaimAsync(limit: 4);
        await CompleteAsync(new TaskCompletion(ids[0], "n1", 1, CompletionKind.Succeeded, T0.AddSeconds(5)));
        await CompleteAsync(new TaskCompletion(ids[1], "n1", 1, CompletionKind.Succeeded, T0.AddSeconds(50)));
        await CompleteAsync(new TaskCompletion(ids[2], "n1", 1, CompletionKind.Failed, T0.AddSeconds(70), Error: "x"));
        await CompleteAsync(new TaskCompletion(ids[3], "n1", 1, CompletionKind.Succeeded, T0.AddSeconds(-120)));

        var buckets = await Store.TasksFinishedHistogramAsync(new TasksFinishedHistogramParams(T0, TimeSpan.FromMinutes(1)), CancellationToken.None);

        Assert.Equal([new FinishedBucket(T0, TaskState.Succeeded, 2), new FinishedBucket(T0.AddMinutes(1), TaskState.Failed, 1)], buckets);
    }

    [Fact]
    public async Task TasksDeleteFinished_DeletesOnlyFinishedTasksOlderThanTheCutoff_InBatches()
    {
        var ids = (await InsertAsync(Task(), Task(), Task(), Task())).Select(t => t.Id).ToArray();
        await Store.TaskCancelAsync(new TaskCancelParams(ids[0], T0), CancellationToken.None);
        await Store.TaskCancelAsync(new TaskCancelParams(ids[1], T0), CancellationToken.None);
        await Store.TaskCancelAsync(new TaskCancelParams(ids[2], T0.AddHours(2)), CancellationToken.None);

        var first = await Store.TasksDeleteFinishedAsync(new TasksDeleteFinishedParams(T0.AddHours(1), 1), CancellationToken.None);
        var second = await Store.TasksDeleteFinishedAsync(new TasksDeleteFinishedParams(T0.AddHours(1), 10), CancellationToken.None);

        Assert.Equal((1, 1), (first, second));
        Assert.Null(await Store.TaskGetAsync(ids[0], CancellationToken.None));
        Assert.Null(await Store.TaskGetAsync(ids[1], CancellationToken.None));
        Assert.NotNull(await Store.TaskGetAsync(ids[2], CancellationToken.None));
        Assert.NotNull(await Store.TaskGetAsync(ids[3], CancellationToken.None));
        Assert.Equal(0, await Store.TasksDeleteFinishedAsync(new TasksDeleteFinishedParams(T0.AddHours(1), 10), CancellationToken.None));
    }
}
