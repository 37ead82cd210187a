using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using TaskSystem.Engine;
using TaskSystem.Storage;
using TaskSystem.Tests.Support;
using TaskSystem.TestSupport;
using Xunit.Abstractions;

namespace TaskSystem.Tests.Engine;

/// <summary>
/// A node cut off from PostgreSQL fences itself: two engines on one database, one of them reaching it through a
/// TCP proxy the test cuts (a partition: calls hang, nothing is refused). Real time, short leases; every assertion
/// is about the order of events (handler ends, lease expiry, re-runs), never about how long something took.
/// </summary>
public sealed class SelfFencingClusterTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>
    /// A 6 s lease renewed every 0.5 s; a node that cannot renew for 2 s stops its handlers, which leaves 4 s before
    /// the lease runs out: room for a machine under load, since the test checks the order of events, not their pace.
    /// </summary>
    private static readonly Action<TaskSystemOptions> ShortLeases = o =>
    {
        o.Concurrency = 3;
        o.LeaseDuration = TimeSpan.FromSeconds(6);
        o.HeartbeatInterval = TimeSpan.FromMilliseconds(500);
        o.SelfFenceAfter = TimeSpan.FromSeconds(2);
        o.RescueInterval = TimeSpan.FromMilliseconds(250);
        o.PollInterval = TimeSpan.FromMilliseconds(250);
        o.StopGracePeriod = TimeSpan.FromSeconds(1);
        o.ShutdownTimeout = TimeSpan.FromSeconds(1);
    };

    private readonly RunLog _runs = new();
    private string _connectionString = null!;
    private TcpProxy _proxy = null!;

    public async Task InitializeAsync()
    {
        _connectionString = await PostgresDatabases.CreateAsync();
        var direct = new NpgsqlConnectionStringBuilder(_connectionString);
        _proxy = TcpProxy.Start(direct.Host!, direct.Port);
    }

    public async Task DisposeAsync() => await _proxy.DisposeAsync();

    /// <summary>The same database, through the proxy.</summary>
    private string ProxiedConnectionString =>
        new NpgsqlConnectionStringBuilder(_connectionString) { Host = "127.0.0.1", Port = _proxy.Port }.ConnectionString;

    /// <summary>
    /// Records each run's start and end on the node that runs it. A run that <paramref name="blocks"/> lasts until its
    /// token is cancelled; any other takes a moment and succeeds.
    /// </summary>
    private Action<TaskSystemBuilder> Handlers(Func<Run, bool> blocks) => b => b.AddHandler("t", async (ctx, ct) =>
    {
        var run = _runs.Start(ctx.Id, ctx.Node, ctx.Attempt);
        try
        {
            await Task.Delay(blocks(run) ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(100), ct);
        }
        finally
        {
            run.End = DateTimeOffset.UtcNow;
        }
    });

    [Fact]
    public async Task NodeCutOffFromTheDatabase_CancelsItsHandlersBeforeItsLeasesRunOut_TheOtherNodeRerunsThemOnlyAfter_NeverBoth()
    {
        await using var cut = await PostgresEngineHosts.StartAsync(ProxiedConnectionString, "cut", Handlers(run => run.Node == "cut"), ShortLeases);
        var ids = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await cut.EnqueueAsync("t")).Id);
        }

        await Eventually.Until(() => _runs.Snapshot().Count(r => r.Node == "cut") == 3, because: "the node to be cut runs all three tasks");
        await using var peer = await PostgresEngineHosts.StartAsync(_connectionString, "peer", Handlers(run => run.Node == "cut"), ShortLeases);

        _proxy.Cut();
        var cutAt = DateTimeOffset.UtcNow;
        Dictionary<long, DateTimeOffset> leases;
        List<TaskInfo> done;
        try
        {
            await Eventually.Until(() => _runs.Snapshot().Count(r => r.Node == "cut" && r.End is not null) == 3, because: "the cut-off node stops its handlers");
            leases = await LeasesAsync(ids);
            done = await Eventually.Until(
                () => StatesAsync(peer, ids), states => states.All(t => t.State == TaskState.Succeeded), TimeSpan.FromSeconds(30), "the peer to run the tasks again");
        }
        finally
        {
            _proxy.Restore();
        }

        var runs = _runs.Snapshot();
        foreach (var id in ids)
        {
            var first = runs.Single(r => r.TaskId == id && r.Node == "cut");
            var second = runs.Single(r => r.TaskId == id && r.Node == "peer");
            output.WriteLine($"task {id}: cut at +0 ms; 'cut' ended at +{(first.End!.Value - cutAt).TotalMilliseconds:0}; " +
                $"lease ran out at +{(leases[id] - cutAt).TotalMilliseconds:0}; 'peer' started at +{(second.Start - cutAt).TotalMilliseconds:0}");
            Assert.True(first.End < leases[id], $"task {id}: the cut-off node's handler ended at {first.End:O}, after its lease ran out at {leases[id]:O}");
            Assert.True(second.Start >= leases[id], $"task {id}: the peer started it at {second.Start:O}, before the lease ran out at {leases[id]:O}");
        }

        AssertNeverTwiceAtOnce(runs);

        // A node lost for longer than its lease had its attempts taken back as from a lost node: counted.
        Assert.All(done, t => Assert.Equal(("peer", 2), (t.Node, t.Attempt)));

        // Once it is back, the cut-off node's late outcomes are fenced off: nothing it writes undoes the peer's work.
        var running = cut.Host.Services.GetRequiredService<RunningTasks>();
        await Eventually.Until(() => running.Count == 0, TimeSpan.FromSeconds(30), "the reconnected node to settle its interrupted attempts");
        Assert.All(await StatesAsync(peer, ids), t => Assert.Equal((TaskState.Succeeded, "peer", 2), (t.State, t.Node, t.Attempt)));
    }

    [Fact]
    public async Task NodeCutOffBrieflyAlone_InterruptsItsHandlerBeforeTheLeaseRunsOut_AndWhenBack_RequeuesItWithoutCountingTheAttempt()
    {
        await using var node = await PostgresEngineHosts.StartAsync(
            ProxiedConnectionString, "alone", Handlers(run => _runs.Snapshot().Count(r => r.TaskId == run.TaskId) == 1), ShortLeases);
        var cancelled = new TaskCompletionSource<DateTimeOffset>(TaskCreationOptions.RunContinuationsAsynchronously);
        var id = (await node.EnqueueAsync("t")).Id;
        var execution = await Eventually.Until(
            () => Task.FromResult(node.Host.Services.GetRequiredService<RunningTasks>().TryGet(id, out var e) ? e : null), e => e is not null, because: "the task to run");
        using var registration = execution!.Token.Register(() => cancelled.TrySetResult(DateTimeOffset.UtcNow));

        _proxy.Cut();
        DateTimeOffset at, lease;
        try
        {
            at = await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(20));
            lease = (await LeasesAsync([id]))[id];
        }
        finally
        {
            _proxy.Restore();
        }

        var done = await Eventually.Until(() => StatesAsync(node, [id]), s => s[0].State == TaskState.Succeeded, TimeSpan.FromSeconds(30), "the task to run again");
        Assert.True(at < lease, $"the handler was cancelled at {at:O}, after its lease ran out at {lease:O}");
        Assert.Equal(StopReason.Interrupted, execution.Reason);
        Assert.Equal(1, done[0].Attempt);
        Assert.Equal([1, 1], _runs.Snapshot().Where(r => r.TaskId == id).Select(r => r.Attempt));
        Assert.Empty(done[0].Errors);
    }

    [Fact]
    public async Task RowLeftRunningUnderALiveNode_ThatItDoesNotHold_IsNotRenewed_AndIsRescuedByAnother()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var alive = await PostgresEngineHosts.StartAsync(_connectionString, "alive", b => b.AddHandler("t", (_, _) => Task.CompletedTask), time: time);
        await using var rescuer = await PostgresEngineHosts.StartAsync(_connectionString, "rescuer", b => b.AddHandler("t", (_, _) => Task.CompletedTask), time: time);

        // Claimed in the live node's name behind its back (as a claim whose answer was lost would be): no handler runs it.
        var now = time.GetUtcNow();
        var id = (await alive.Store.TasksInsertAsync(new TasksInsertParams([new NewTask("nobody", "default", 0, "{}", 3, TimeSpan.FromMinutes(1), now, now)]), CancellationToken.None))[0].Id;
        Assert.Single(await alive.Store.TasksClaimAsync(new TasksClaimParams("alive", 4242, 1, ["nobody"], now, now.AddSeconds(30)), CancellationToken.None));

        await time.AdvanceUntilAsync(TimeSpan.FromSeconds(1), async () => (await alive.Manager.GetAsync(id))!.State == TaskState.Queued,
            "the stranded row's lease to run out and the other node to rescue it");

        var task = (await alive.Manager.GetAsync(id))!;
        Assert.Equal(1, task.Attempt);
        Assert.Contains("alive", Assert.Single(task.Errors).Error, StringComparison.Ordinal);
    }

    /// <summary>For every task, no two runs overlap in time, whatever their nodes.</summary>
    private static void AssertNeverTwiceAtOnce(IReadOnlyList<Run> runs)
    {
        foreach (var task in runs.GroupBy(r => r.TaskId))
        {
            var ordered = task.OrderBy(r => r.Start).ToList();
            for (var i = 1; i < ordered.Count; i++)
            {
                var (before, after) = (ordered[i - 1], ordered[i]);
                Assert.True(before.End is { } end && end <= after.Start,
                    $"task {task.Key} ran on {before.Node} ({before.Start:O} to {before.End:O}) and on {after.Node} (from {after.Start:O}) at once");
            }
        }
    }

    /// <summary>The leases in the database, read directly (not through the proxy).</summary>
    private async Task<Dictionary<long, DateTimeOffset>> LeasesAsync(IReadOnlyList<long> ids)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT id, lease_expires_at FROM tasksystem_tasks WHERE id = ANY(@ids)", connection);
        command.Parameters.AddWithValue("ids", ids.ToArray());
        var leases = new Dictionary<long, DateTimeOffset>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            // A rescue clears the lease: had one come first, the cut-off node would have stopped its handler too late.
            Assert.False(reader.IsDBNull(1), $"task {reader.GetInt64(0)} was taken back before the cut-off node stopped its handler");
            leases[reader.GetInt64(0)] = reader.GetFieldValue<DateTimeOffset>(1);
        }

        Assert.Equal(ids.Count, leases.Count);
        return leases;
    }

    private static async Task<List<TaskInfo>> StatesAsync(EngineHost host, IReadOnlyList<long> ids)
    {
        var tasks = new List<TaskInfo>();
        foreach (var id in ids)
        {
            tasks.Add((await host.Manager.GetAsync(id))!);
        }

        return tasks;
    }

    private sealed class Run(long taskId, string node, int attempt, DateTimeOffset start)
    {
        private long _endTicks;

        public long TaskId => taskId;

        public string Node => node;

        public int Attempt => attempt;

        public DateTimeOffset Start => start;

        public DateTimeOffset? End
        {
            get => Volatile.Read(ref _endTicks) is var ticks and not 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;
            set => Volatile.Write(ref _endTicks, value!.Value.UtcTicks);
        }
    }

    private sealed class RunLog
    {
        private readonly List<Run> _runs = [];

        public Run Start(long taskId, string node, int attempt)
        {
            var run = new Run(taskId, node, attempt, DateTimeOffset.UtcNow);
            lock (_runs)
            {
                _runs.Add(run);
            }

            return run;
        }

        public List<Run> Snapshot()
        {
            lock (_runs)
            {
                return [.. _runs];
            }
        }
    }
}
