using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using TaskSystem.PostgreSql;
using TaskSystem.Storage;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Storage;

/// <summary>The store contract on PostgreSQL, a database per test; then what only PostgreSQL has: several nodes, signals, its text type.</summary>
public sealed class PostgresStoreContractTests : StoreContractTests
{
    private readonly List<ITaskStore> _extraStores = [];
    private string _connectionString = null!;

    private protected override async Task<ITaskStore> CreateStoreAsync()
    {
        _connectionString = await PostgresDatabases.CreateAsync();
        return Open();
    }

    private protected override Task<ITaskStore> ReopenStoreAsync() => System.Threading.Tasks.Task.FromResult(Open());

    private protected override async Task<ITaskStore> CreateUnmigratedStoreAsync() =>
        new PostgresTaskStore(await PostgresDatabases.CreateEmptyAsync(), 2, "early", TimeProvider.System, NullLogger<PostgresTaskStore>.Instance);

    private ITaskStore Open(string node = "test-node") =>
        new PostgresTaskStore(_connectionString, maxPoolSize: 10, node, TimeProvider.System, NullLogger<PostgresTaskStore>.Instance);

    private ITaskStore OpenExtra(string node)
    {
        var store = Open(node);
        _extraStores.Add(store);
        return store;
    }

    private protected override Task<ITaskStore> SecondWriterAsync() => System.Threading.Tasks.Task.FromResult(OpenExtra("second-writer"));

    public override async Task DisposeAsync()
    {
        foreach (var store in _extraStores)
        {
            await store.DisposeAsync();
        }

        await base.DisposeAsync();
    }

    /// <summary>
    /// The rows the count and histogram statements read from the tasks table, as EXPLAIN ANALYZE reports them (rows
    /// returned and rows filtered out by every scan of it), with fresh planner statistics as autovacuum would keep.
    /// </summary>
    protected override async Task<long> CountingWorkAsync()
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using (var analyze = new NpgsqlCommand("ANALYZE tasksystem_tasks", connection))
        {
            await analyze.ExecuteNonQueryAsync();
        }

        var rows = 0L;
        foreach (var sql in new[] { PostgresTaskStore.CountByStateSql, PostgresTaskStore.CountByQueueSql, PostgresTaskStore.ThroughputSql })
        {
            await using var explain = new NpgsqlCommand("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, connection);
            if (sql.Contains("@since", StringComparison.Ordinal))
            {
                explain.Parameters.AddWithValue("since", 0L);
            }

            using var plan = JsonDocument.Parse((string)(await explain.ExecuteScalarAsync())!);
            rows += RowsReadFromTasks(plan.RootElement[0].GetProperty("Plan"));
        }

        return rows;
    }

    private static long RowsReadFromTasks(JsonElement node)
    {
        var rows = 0L;
        if (node.TryGetProperty("Relation Name", out var relation) && relation.GetString() == "tasksystem_tasks")
        {
            var perLoop = node.GetProperty("Actual Rows").GetInt64()
                + (node.TryGetProperty("Rows Removed by Filter", out var filtered) ? filtered.GetInt64() : 0)
                + (node.TryGetProperty("Rows Removed by Index Recheck", out var rechecked) ? rechecked.GetInt64() : 0);
            rows += perLoop * node.GetProperty("Actual Loops").GetInt64();
        }

        if (node.TryGetProperty("Plans", out var children))
        {
            foreach (var child in children.EnumerateArray())
            {
                rows += RowsReadFromTasks(child);
            }
        }

        return rows;
    }

    [Fact]
    public async Task TasksComplete_ErrorWithANulCharacter_IsStoredReadably()
    {
        var id = (await InsertAsync(Task()))[0].Id;
        await ClaimAsync(limit: 1);

        Assert.True(await CompleteAsync(new TaskCompletion(id, "n1", 1, CompletionKind.Failed, T0, Error: "bad\0byte")));

        Assert.Equal("bad\uFFFDbyte", (await GetAsync(id)).Error);
    }

    [Fact]
    public async Task Migrate_FromManyNodesAtOnce_Succeeds()
    {
        var stores = Enumerable.Range(0, 4).Select(i => OpenExtra($"m{i}")).ToList();
        var fresh = await PostgresDatabases.CreateEmptyAsync();
        var racing = Enumerable.Range(0, 4)
            .Select(i => new PostgresTaskStore(fresh, 4, $"r{i}", TimeProvider.System, NullLogger<PostgresTaskStore>.Instance))
            .ToList();
        _extraStores.AddRange(racing);

        await System.Threading.Tasks.Task.WhenAll(racing.Select(s => s.MigrateAsync(CancellationToken.None)));
        await System.Threading.Tasks.Task.WhenAll(stores.Select(s => s.MigrateAsync(CancellationToken.None)));

        Assert.Empty(await racing[0].NodesListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Inserts_WakeOtherNodes_ButNotTheInsertingOne()
    {
        await using var listener = await ListenAsync("listener");
        var signals = listener.Signals;
        var before = signals.Ready;

        await OpenExtra("listener").TasksInsertAsync(new TasksInsertParams([Task()]), CancellationToken.None);
        await InsertAsync(Task());

        await Eventually.Until(() => signals.Ready == before + 1, because: "one wake-up, from the other node's insert");
    }

    [Fact]
    public async Task QueueResume_WakesOtherNodes_InItsCommit_AndAPauseOrARepeatedResumeDoesNot()
    {
        await using var listener = await ListenAsync("listener");
        var signals = listener.Signals;
        var before = signals.Ready;

        await Store.QueuePauseSetAsync(new QueuePauseSetParams("mail", Paused: true, T0), CancellationToken.None);
        await Store.QueuePauseSetAsync(new QueuePauseSetParams("mail", Paused: false, T0), CancellationToken.None);
        await Store.QueuePauseSetAsync(new QueuePauseSetParams("mail", Paused: false, T0), CancellationToken.None);
        await InsertAsync(Task());

        // The insert's signal comes after the resume's: once it is in, both were, and nothing else was.
        await Eventually.Until(() => signals.Ready == before + 2, because: "one wake-up for the resume, one for the insert");
        Assert.Equal(before + 2, signals.Ready);
    }

    [Fact]
    public async Task ScheduleChanges_TellOtherNodes_InTheirCommit_AndAFiredTickDoesNot()
    {
        await using var listener = await ListenAsync("listener");
        var signals = listener.Signals;
        await Eventually.Until(() => signals.SchedulesChanged > 0, because: "the listener has the scheduler read the schedules once it listens");
        var before = signals.SchedulesChanged;
        var ready = signals.Ready;
        var schedule = new ScheduleRecord("signal", null, "UTC", TimeSpan.FromMinutes(1), """{"type":"email"}""", false, "allow", "skip", T0, null, null, T0);

        await Store.ScheduleUpsertAsync(new ScheduleUpsertParams(schedule), CancellationToken.None);
        await Store.ScheduleFireAsync(new ScheduleFireParams("signal", T0, T0, T0.AddMinutes(1), null, false), CancellationToken.None);
        await Store.SchedulePauseAsync(new SchedulePauseParams("signal", true, null, T0), CancellationToken.None);
        await Store.SchedulePauseAsync(new SchedulePauseParams("signal", false, T0.AddMinutes(2), T0), CancellationToken.None);
        Assert.True(await Store.ScheduleDeleteAsync("signal", CancellationToken.None));
        Assert.False(await Store.ScheduleDeleteAsync("signal", CancellationToken.None));
        await Store.QueuePauseSetAsync(new QueuePauseSetParams("mail", Paused: true, T0), CancellationToken.None);
        await Store.QueuePauseSetAsync(new QueuePauseSetParams("mail", Paused: false, T0), CancellationToken.None);

        // Signals arrive in commit order: once the queue's wake-up is in, every schedule signal before it is too.
        await Eventually.Until(() => signals.Ready > ready, because: "the queue resume after the schedule changes was announced");
        Assert.Equal(before + 4, signals.SchedulesChanged);
    }

    [Fact]
    public async Task StopSignal_ReachesOnlyTheOwningNode()
    {
        await using var ownerNode = await ListenAsync("owner");
        await using var bystanderNode = await ListenAsync("bystander");
        var (owner, bystander) = (ownerNode.Signals, bystanderNode.Signals);

        await ((ITaskNotifier)Store).NotifyStopAsync(42, "owner", CancellationToken.None);

        await Eventually.Until(() => owner.Stops.Contains(42));
        Assert.Empty(bystander.Stops);
    }

    [Fact]
    public async Task TaskWithAStopRequest_LeavingRunning_TellsEveryNode_ByCompletionOrRescue()
    {
        await using var waitingNode = await ListenAsync("waiting");
        var waiting = waitingNode.Signals;
        var ids = (await InsertAsync(Task(), Task(), Task())).Select(t => t.Id).ToArray();
        await ClaimAsync(limit: 2, node: "owner");
        await ClaimAsync(limit: 1, node: "dead", claim: 2);
        await Store.TaskCancelAsync(new TaskCancelParams(ids[0], T0), CancellationToken.None);
        await Store.TaskCancelAsync(new TaskCancelParams(ids[2], T0), CancellationToken.None);

        await CompleteAsync(new TaskCompletion(ids[0], "owner", 1, CompletionKind.Cancelled, T0, Error: "stopped"));
        await CompleteAsync(new TaskCompletion(ids[1], "owner", 1, CompletionKind.Succeeded, T0));
        await Store.TasksRescueAsync(new TasksRescueParams(T0.AddMinutes(1), "owner", 10), CancellationToken.None);

        await Eventually.Until(() => waiting.Stopped.Count == 2, because: "the two stopped tasks were announced");
        Assert.Equal([ids[0], ids[2]], waiting.Stopped.Order());
    }

    /// <summary>Another node's store listening for signals, once it listens (it wakes its dispatcher then); stops listening when disposed.</summary>
    private async Task<Listening> ListenAsync(string node)
    {
        var signals = new RecordingSignals();
        var stop = new CancellationTokenSource();
        var listening = ((ITaskNotifier)OpenExtra(node)).ListenAsync(signals, stop.Token);
        await Eventually.Until(() => signals.Ready > 0, because: $"{node} wakes its dispatcher once it listens");
        return new Listening(signals, stop, listening);
    }

    private sealed class Listening(RecordingSignals signals, CancellationTokenSource stop, System.Threading.Tasks.Task listening) : IAsyncDisposable
    {
        public RecordingSignals Signals => signals;

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            await listening;
            stop.Dispose();
        }
    }

    private sealed class RecordingSignals : ITaskSignalHandler
    {
        private int _ready;

        public int Ready => Volatile.Read(ref _ready);

        public System.Collections.Concurrent.ConcurrentBag<long> Stops { get; } = [];

        public void OnTasksAvailable() => Interlocked.Increment(ref _ready);

        public void OnStopRequested(long taskId) => Stops.Add(taskId);

        public System.Collections.Concurrent.ConcurrentBag<long> Stopped { get; } = [];

        public void OnTaskStopped(long taskId) => Stopped.Add(taskId);

        private int _schedulesChanged;

        public int SchedulesChanged => Volatile.Read(ref _schedulesChanged);

        public void OnSchedulesChanged() => Interlocked.Increment(ref _schedulesChanged);
    }
}
