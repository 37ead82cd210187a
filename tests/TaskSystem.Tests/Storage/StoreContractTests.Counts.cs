using TaskSystem.Storage;

namespace TaskSystem.Tests.Storage;

/// <summary>
/// The counts and the throughput histogram: exact whatever moves tasks into or out of a final state, however many
/// writers race, and as cheap with ten times the finished tasks.
/// </summary>
public abstract partial class StoreContractTests
{
    /// <summary>
    /// The work the count and histogram statements do on this store's database as it is now, in a unit of the store's
    /// own that grows with every row they read (SQLite: virtual machine steps; PostgreSQL: rows read from the tasks table).
    /// </summary>
    protected abstract Task<long> CountingWorkAsync();

    [Fact]
    public async Task TaskCounts_AfterEveryKindOfMove_MatchTheRows()
    {
        var ids = (await InsertAsync([.. Enumerable.Range(0, 14).Select(i => Task(queue: i % 2 == 0 ? "mail" : "img", maxAttempts: i == 12 ? 1 : 3))]))
            .Select(t => t.Id).ToArray();
        await InsertAsync(Task(queue: "img", runAt: T0.AddHours(1)));
        Assert.Equal(13, (await ClaimAsync(limit: 13)).Count);
        foreach (var running in new[] { ids[5], ids[7], ids[11] })
        {
            Assert.Equal(TaskCancelOutcome.StopRequested, (await Store.TaskCancelAsync(new TaskCancelParams(running, T0), CancellationToken.None)).Outcome);
        }

        var at = T0.AddSeconds(10);
        await CompleteAsync(new TaskCompletion(ids[0], "n1", 1, CompletionKind.Succeeded, T0.AddSeconds(5)));
        await CompleteAsync(new TaskCompletion(ids[1], "n1", 1, CompletionKind.Succeeded, at));
        await CompleteAsync(new TaskCompletion(ids[2], "n1", 1, CompletionKind.Failed, at, Error: "x"));
        await CompleteAsync(new TaskCompletion(ids[3], "n1", 1, CompletionKind.Cancelled, at, Error: "stopped"));
        await CompleteAsync(new TaskCompletion(ids[4], "n1", 1, CompletionKind.Retry, at, Error: "x", RunAt: T0.AddMinutes(1)));
        await CompleteAsync(new TaskCompletion(ids[5], "n1", 1, CompletionKind.Retry, at, Error: "x", RunAt: T0.AddMinutes(1)));
        await CompleteAsync(new TaskCompletion(ids[6], "n1", 1, CompletionKind.Released, at));
        await CompleteAsync(new TaskCompletion(ids[7], "n1", 1, CompletionKind.Released, at, Error: "stopped"));
        Assert.Equal(5, (await Store.TasksRescueAsync(new TasksRescueParams(T0.AddMinutes(1), "n2", 100), CancellationToken.None)).Count);
        Assert.False(await CompleteAsync(new TaskCompletion(ids[8], "n1", 1, CompletionKind.Succeeded, at)));
        Assert.Equal(TaskCancelOutcome.Cancelled, (await Store.TaskCancelAsync(new TaskCancelParams(ids[13], T0.AddMinutes(2)), CancellationToken.None)).Outcome);
        Assert.Equal(TaskCancelOutcome.AlreadyCancelled, (await Store.TaskCancelAsync(new TaskCancelParams(ids[13], T0.AddMinutes(2)), CancellationToken.None)).Outcome);
        Assert.Equal(RetryOutcome.Queued, (await Store.TaskRetryAsync(new TaskRetryParams(ids[2], T0.AddMinutes(3)), CancellationToken.None)).Outcome);
        Assert.Equal(RetryOutcome.Queued, (await Store.TaskRetryAsync(new TaskRetryParams(ids[3], T0.AddMinutes(3)), CancellationToken.None)).Outcome);
        Assert.Equal(RetryOutcome.NotRetryable, (await Store.TaskRetryAsync(new TaskRetryParams(ids[0], T0.AddMinutes(3)), CancellationToken.None)).Outcome);
        Assert.Equal(1, await Store.TasksDeleteFinishedAsync(new TasksDeleteFinishedParams(T0.AddSeconds(8), 10), CancellationToken.None));

        var counts = await AssertCountsMatchTheRowsAsync();

        // Every final state was entered and left along the way: the counters were exercised, not just left at zero.
        Assert.Equal((1L, 1L, 4L), (counts[TaskState.Succeeded], counts[TaskState.Failed], counts[TaskState.Cancelled]));
    }

    [Fact]
    public async Task TaskCounts_UnderConcurrentCompletionsStopsRetriesAndRetention_StayExact()
    {
        var ids = (await InsertAsync([.. Enumerable.Range(0, 300).Select(i => Task(queue: $"q{i % 3}"))])).Select(t => t.Id).ToArray();

        var nodes = Enumerable.Range(0, 4).Select(n => System.Threading.Tasks.Task.Run(async () =>
        {
            var random = new Random(n);
            for (var round = 0; round < 25; round++)
            {
                var claim = (n * 1000) + round + 1;
                var claimed = await ClaimAsync(limit: 8, node: $"c{n}", claim: claim, now: T0.AddMinutes(10));
                var at = T0.AddSeconds(round);
                var outcomes = claimed.Select(t => random.Next(5) switch
                {
                    0 => new TaskCompletion(t.Id, $"c{n}", claim, CompletionKind.Failed, at, Error: "x"),
                    1 => new TaskCompletion(t.Id, $"c{n}", claim, CompletionKind.Retry, at, Error: "x", RunAt: T0),
                    2 => new TaskCompletion(t.Id, $"c{n}", claim, CompletionKind.Cancelled, at, Error: "stopped"),
                    3 => new TaskCompletion(t.Id, $"c{n}", claim, CompletionKind.Released, at),
                    _ => new TaskCompletion(t.Id, $"c{n}", claim, CompletionKind.Succeeded, at),
                }).ToList();
                if (outcomes.Count > 0)
                {
                    await Store.TasksCompleteAsync(new TasksCompleteParams(outcomes), CancellationToken.None);
                }
            }
        }));
        var user = System.Threading.Tasks.Task.Run(async () =>
        {
            var random = new Random(42);
            for (var i = 0; i < 100; i++)
            {
                var id = ids[random.Next(ids.Length)];
                if (i % 2 == 0)
                {
                    await Store.TaskCancelAsync(new TaskCancelParams(id, T0.AddSeconds(i % 30)), CancellationToken.None);
                }
                else
                {
                    await Store.TaskRetryAsync(new TaskRetryParams(id, T0), CancellationToken.None);
                }
            }
        });
        var retention = System.Threading.Tasks.Task.Run(async () =>
        {
            for (var i = 0; i < 25; i++)
            {
                await Store.TasksDeleteFinishedAsync(new TasksDeleteFinishedParams(T0.AddSeconds(12), 5), CancellationToken.None);
            }
        });
        await System.Threading.Tasks.Task.WhenAll([.. nodes, user, retention]);

        var counts = await AssertCountsMatchTheRowsAsync();

        Assert.True(counts[TaskState.Succeeded] + counts[TaskState.Failed] + counts[TaskState.Cancelled] > 0, "some tasks finished");
    }

    [Fact]
    public async Task TasksFinishedHistogram_CountsTheFinishedTasksThereAre_ARetriedOrDeletedTaskLeavesItsMinute()
    {
        var ids = (await InsertAsync(Task(), Task())).Select(t => t.Id).ToArray();
        await ClaimAsync(limit: 2);
        await CompleteAsync(new TaskCompletion(ids[0], "n1", 1, CompletionKind.Failed, T0.AddSeconds(10), Error: "x"));
        await CompleteAsync(new TaskCompletion(ids[1], "n1", 1, CompletionKind.Succeeded, T0.AddSeconds(20)));
        await Store.TaskRetryAsync(new TaskRetryParams(ids[0], T0.AddSeconds(30)), CancellationToken.None);
        await ClaimAsync(limit: 1, claim: 2, now: T0.AddSeconds(30));
        await CompleteAsync(new TaskCompletion(ids[0], "n1", 2, CompletionKind.Succeeded, T0.AddSeconds(70)));
        Assert.Equal(1, await Store.TasksDeleteFinishedAsync(new TasksDeleteFinishedParams(T0.AddSeconds(30), 10), CancellationToken.None));

        var buckets = await Store.TasksFinishedHistogramAsync(new TasksFinishedHistogramParams(T0, TimeSpan.FromMinutes(1)), CancellationToken.None);

        Assert.Equal([new FinishedBucket(T0.AddMinutes(1), TaskState.Succeeded, 1)], buckets);
    }

    [Fact]
    public async Task TasksFinishedHistogram_KeepsTwoHours_ALaterMinuteTakesItsSlotOver_AnEarlierOneIsDropped()
    {
        var ids = (await InsertAsync(Task(), Task(), Task())).Select(t => t.Id).ToArray();
        await ClaimAsync(limit: 3);
        var twoHoursLater = T0.AddMinutes(TasksFinishedHistogramParams.MinutesKept);
        await CompleteAsync(new TaskCompletion(ids[0], "n1", 1, CompletionKind.Succeeded, T0));
        await CompleteAsync(new TaskCompletion(ids[1], "n1", 1, CompletionKind.Succeeded, twoHoursLater));
        await CompleteAsync(new TaskCompletion(ids[2], "n1", 1, CompletionKind.Succeeded, T0.AddSeconds(5)));

        var buckets = await Store.TasksFinishedHistogramAsync(new TasksFinishedHistogramParams(T0, TimeSpan.FromMinutes(1)), CancellationToken.None);

        Assert.Equal([new FinishedBucket(twoHoursLater, TaskState.Succeeded, 1)], buckets);
    }

    [Fact]
    public async Task TasksFinishedHistogram_WiderBuckets_AddUpTheirMinutes()
    {
        var ids = (await InsertAsync(Task(), Task(), Task())).Select(t => t.Id).ToArray();
        await ClaimAsync(limit: 3);
        await CompleteAsync(new TaskCompletion(ids[0], "n1", 1, CompletionKind.Succeeded, T0.AddMinutes(1)));
        await CompleteAsync(new TaskCompletion(ids[1], "n1", 1, CompletionKind.Succeeded, T0.AddMinutes(4.5)));
        await CompleteAsync(new TaskCompletion(ids[2], "n1", 1, CompletionKind.Succeeded, T0.AddMinutes(6)));

        var buckets = await Store.TasksFinishedHistogramAsync(new TasksFinishedHistogramParams(T0, TimeSpan.FromMinutes(5)), CancellationToken.None);

        Assert.Equal([new FinishedBucket(T0, TaskState.Succeeded, 2), new FinishedBucket(T0.AddMinutes(5), TaskState.Succeeded, 1)], buckets);
    }

    [Fact]
    public async Task TaskCounts_WithTenTimesTheFinishedTasks_ReadNoMore()
    {
        await InsertAsync(Task(type: "b"), Task(type: "b", queue: "mail"), Task(type: "b", queue: "mail"), Task(type: "b", runAt: T0.AddHours(1)));
        await ClaimAsync(limit: 1, types: ["b"]);
        await FinishManyAsync(1_000, firstClaim: 10);
        var work = await CountingWorkAsync();
        var counts = await Store.TasksCountByStateAsync(CancellationToken.None);

        await FinishManyAsync(9_000, firstClaim: 100);
        var workWithTenTimes = await CountingWorkAsync();

        Assert.Equal(1_000L, counts[TaskState.Succeeded] + counts[TaskState.Failed]);
        Assert.Equal(10_000L, (await AssertCountsMatchTheRowsAsync()).Where(c => c.Key.IsFinal()).Sum(c => c.Value));
        Assert.True(workWithTenTimes <= work, $"counting did {work} units of work with 1,000 finished tasks and {workWithTenTimes} with 10,000");
    }

    /// <summary>Enqueues, claims and finishes tasks of type "a" (one in ten failed), 500 at a time.</summary>
    private async Task FinishManyAsync(int count, long firstClaim)
    {
        for (var done = 0; done < count; done += 500)
        {
            var size = Math.Min(500, count - done);
            var claim = firstClaim + (done / 500);
            await InsertAsync([.. Enumerable.Range(0, size).Select(i => Task(queue: i % 2 == 0 ? "mail" : "default"))]);
            var claimed = await ClaimAsync(limit: size, claim: claim, types: ["a"]);
            var outcomes = claimed.Select((t, i) => i % 10 == 0
                ? new TaskCompletion(t.Id, "n1", claim, CompletionKind.Failed, T0, Error: "x")
                : new TaskCompletion(t.Id, "n1", claim, CompletionKind.Succeeded, T0));
            Assert.All(await Store.TasksCompleteAsync(new TasksCompleteParams([.. outcomes]), CancellationToken.None), Assert.True);
        }
    }

    /// <summary>Compares both counts and the histogram (every test here finishes tasks within an hour of T0) with the rows themselves; returns the counts per state.</summary>
    private async Task<IReadOnlyDictionary<TaskState, long>> AssertCountsMatchTheRowsAsync()
    {
        var rows = await Store.TasksListAsync(new TasksListParams(null, null, null, null, 100_000), CancellationToken.None);
        var byState = await Store.TasksCountByStateAsync(CancellationToken.None);
        var byQueue = await Store.TasksCountByQueueAsync(CancellationToken.None);
        var histogram = await Store.TasksFinishedHistogramAsync(new TasksFinishedHistogramParams(T0.AddHours(-1), TimeSpan.FromMinutes(1)), CancellationToken.None);

        Assert.Equal(
            rows.Where(t => t.State.IsFinal())
                .GroupBy(t => (Start: DateTimeOffset.FromUnixTimeSeconds(t.FinishedAt!.Value.ToUnixTimeSeconds() / 60 * 60), t.State))
                .Select(g => new FinishedBucket(g.Key.Start, g.Key.State, g.Count()))
                .OrderBy(b => b.Start).ThenBy(b => b.State),
            histogram);

        Assert.Equal(
            TaskStates.All.Select(state => (state, (long)rows.Count(t => t.State == state))),
            TaskStates.All.Select(state => (state, byState[state])));
        Assert.Equal(
            rows.GroupBy(t => (t.Queue, t.State)).Select(g => new QueueStateCount(g.Key.Queue, g.Key.State, g.Count())).OrderBy(c => c.Queue, StringComparer.Ordinal).ThenBy(c => c.State),
            byQueue.OrderBy(c => c.Queue, StringComparer.Ordinal).ThenBy(c => c.State));
        return byState;
    }
}
