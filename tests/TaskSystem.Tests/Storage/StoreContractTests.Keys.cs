using TaskSystem.Storage;

namespace TaskSystem.Tests.Storage;

/// <summary>Unique tasks: an idempotency key, or a schedule tick, is held by one kept task, whoever races for it.</summary>
public abstract partial class StoreContractTests
{
    /// <summary>
    /// Another writer on the same database: a second node's store where several processes may share it, the same
    /// store where only one process can.
    /// </summary>
    private protected virtual Task<ITaskStore> SecondWriterAsync() => System.Threading.Tasks.Task.FromResult(Store);

    private protected static NewTask Keyed(string key, string payload = "{}") => Task(payload: payload) with { Key = key };

    private protected static NewTask Tick(string schedule, DateTimeOffset tick) => Task() with { Schedule = schedule, ScheduledFor = tick };

    [Fact]
    public async Task TasksInsert_WithAKeyAlreadyHeld_AddsNothing_AndReturnsTheHolder()
    {
        var first = Assert.Single(await InsertAsync(Keyed("order-1", """{"n":1}""")));

        var second = Assert.Single(await InsertAsync(Keyed("order-1", """{"n":2}""")));

        Assert.False(first.Existing);
        Assert.Equal("order-1", first.Key);
        Assert.True(second.Existing);
        Assert.Equal(first.Id, second.Id);
        Assert.Equal("""{"n":1}""", second.PayloadJson.Replace(" ", "", StringComparison.Ordinal));
        Assert.Single(await Store.TasksListAsync(new TasksListParams(null, null, null, null, 10), CancellationToken.None));
        Assert.Equal("order-1", (await GetAsync(first.Id)).Key);
    }

    [Fact]
    public async Task TasksInsert_OneBatch_WithAKeyTwiceAndUnkeyedTasks_MapsEveryItemInOrder()
    {
        var held = Assert.Single(await InsertAsync(Keyed("held")));

        var batch = await InsertAsync(Task(type: "b"), Keyed("new"), Keyed("held"), Task(type: "a"), Keyed("new"));

        Assert.Equal([false, false, true, false, true], batch.Select(t => t.Existing));
        Assert.Equal("b", (await GetAsync(batch[0].Id)).Type);
        Assert.Equal("new", (await GetAsync(batch[1].Id)).Key);
        Assert.Equal(held.Id, batch[2].Id);
        Assert.Equal("a", (await GetAsync(batch[3].Id)).Type);
        Assert.Null((await GetAsync(batch[3].Id)).Key);
        Assert.Equal(batch[1].Id, batch[4].Id);
        Assert.Equal(4, (await Store.TasksListAsync(new TasksListParams(null, null, null, null, 10), CancellationToken.None)).Count);
    }

    [Fact]
    public async Task TasksInsert_ConcurrentCallersWithOneKey_MakeExactlyOneTask()
    {
        var other = await SecondWriterAsync();
        await other.MigrateAsync(CancellationToken.None);

        // Callers on two writers (two nodes where the store allows it), each key raced by ten of them at once.
        var results = await System.Threading.Tasks.Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            (i % 2 == 0 ? Store : other).TasksInsertAsync(new TasksInsertParams([Keyed($"k{i % 20}")]), CancellationToken.None)));

        var byKey = results.Select(r => Assert.Single(r)).GroupBy(t => t.Key!).ToList();
        Assert.Equal(20, byKey.Count);
        Assert.All(byKey, group =>
        {
            Assert.Single(group.Select(t => t.Id).Distinct());
            Assert.Single(group, t => !t.Existing);
        });
        Assert.Equal(20, (await Store.TasksListAsync(new TasksListParams(null, null, null, null, 100), CancellationToken.None)).Count);
    }

    [Fact]
    public async Task TasksInsert_KeyFreedByRetention_CanBeUsedAgain()
    {
        var first = Assert.Single(await InsertAsync(Keyed("once")));
        var claimed = Assert.Single(await ClaimAsync(1));
        Assert.True(await CompleteAsync(new TaskCompletion(claimed.Id, "n1", 1, CompletionKind.Succeeded, T0.AddSeconds(1))));
        Assert.Equal(1, await Store.TasksDeleteFinishedAsync(new TasksDeleteFinishedParams(T0.AddMinutes(1), 10), CancellationToken.None));

        var again = Assert.Single(await InsertAsync(Keyed("once")));

        Assert.False(again.Existing);
        Assert.NotEqual(first.Id, again.Id);
    }

    [Fact]
    public async Task TasksInsert_ScheduleTickTwice_MakesOneTask_OnAnyWriter()
    {
        var other = await SecondWriterAsync();
        await other.MigrateAsync(CancellationToken.None);

        var results = await System.Threading.Tasks.Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            (i % 2 == 0 ? Store : other).TasksInsertAsync(new TasksInsertParams([Tick("nightly", T0)]), CancellationToken.None)));
        var nextTick = Assert.Single(await InsertAsync(Tick("nightly", T0.AddDays(1))));

        var ticks = results.Select(r => Assert.Single(r)).ToList();
        Assert.Single(ticks.Select(t => t.Id).Distinct());
        Assert.Single(ticks, t => !t.Existing);
        Assert.False(nextTick.Existing);
        var stored = await GetAsync(ticks[0].Id);
        Assert.Equal(("nightly", T0), (stored.Schedule, stored.ScheduledFor));
    }
}
