using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using TaskSystem.PostgreSql;
using TaskSystem.Storage;
using TaskSystem.Tests.Support;
using Xunit.Abstractions;

namespace TaskSystem.Tests.Engine;

/// <summary>Several engines on one PostgreSQL database, in one process: signals, stops and leases across nodes.</summary>
public sealed class PostgresClusterEngineTests(ITestOutputHelper output) : IAsyncLifetime
{
    private string _connectionString = null!;

    public async Task InitializeAsync() => _connectionString = await PostgresDatabases.CreateAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private Task<EngineHost> StartNodeAsync(string node, Action<TaskSystemBuilder> handlers, Action<TaskSystemOptions>? configure = null, TimeProvider? time = null) =>
        PostgresEngineHosts.StartAsync(_connectionString, node, handlers, configure, time);

    private static NewTask NewTask(string type, DateTimeOffset now) => new(type, "default", 0, "{}", 3, TimeSpan.FromMinutes(1), now, now);

    /// <summary>
    /// A task that a node which is about to die claims and keeps running, set up before the live node starts so that
    /// the live node cannot take it first.
    /// </summary>
    private async Task<(long Id, TaskRecord Claim, PostgresTaskStore Dead)> ClaimOnADeadNodeAsync(FakeTimeProvider time)
    {
        var now = time.GetUtcNow();
        var dead = new PostgresTaskStore(_connectionString, 2, "dead", TimeProvider.System, NullLogger<PostgresTaskStore>.Instance);
        await dead.MigrateAsync(CancellationToken.None);
        var id = (await dead.TasksInsertAsync(new TasksInsertParams([NewTask("t", now)]), CancellationToken.None))[0].Id;
        var claim = Assert.Single(await dead.TasksClaimAsync(new TasksClaimParams("dead", 77, 1, ["t"], now, now.AddSeconds(30)), CancellationToken.None));
        return (id, claim, dead);
    }

    /// <summary>
    /// Moves the fake clock a second at a time until the task is in <paramref name="state"/>: the engine's periodic
    /// timers start on their own threads, and one created just after a single big jump would never fire.
    /// </summary>
    private static Task<TaskInfo> AdvanceUntilAsync(FakeTimeProvider time, EngineHost host, long id, TaskState state) =>
        time.AdvanceUntilAsync(TimeSpan.FromSeconds(1), async () => (await host.Manager.GetAsync(id))!, task => task.State == state, $"task {id} to be {state}");

    [Fact]
    public async Task OutcomeLostInADatabaseCrash_ItsTaskIsPutBackInTheQueueByItsOwnNodesRescuer()
    {
        // Outcomes commit without waiting for the disk, so a PostgreSQL crash can lose one: its task is then left
        // running under the node that ran it, with a claim that node no longer holds. Such a row is written here
        // directly, in a queue the node does not serve (so that it cannot claim the task again itself).
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var node = await StartNodeAsync("solo", b => b.AddHandler("t", (_, _) => Task.CompletedTask),
            o => o.Queues["default"] = new TaskQueueOptions(), time);
        var now = time.GetUtcNow();
        var id = (await node.Store.TasksInsertAsync(new TasksInsertParams([NewTask("t", now) with { Queue = "elsewhere" }]), CancellationToken.None))[0].Id;
        Assert.Single(await node.Store.TasksClaimAsync(
            new TasksClaimParams("solo", 77, 1, ["t"], now, now.AddSeconds(30)) { Queues = ["elsewhere"] }, CancellationToken.None));

        var rescued = await AdvanceUntilAsync(time, node, id, TaskState.Queued);

        Assert.Equal(1, rescued.Attempt);
        Assert.Contains("solo", rescued.Errors.Single().Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TaskAddedByAnotherNode_StartsOnAnIdleNodeWithinMilliseconds_WithoutPolling()
    {
        var started = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var worker = await StartNodeAsync("worker", b => b.AddHandler("t", (_, _) => { started.TrySetResult(Stopwatch.GetTimestamp()); return Task.CompletedTask; }),
            o => o.PollInterval = TimeSpan.FromHours(1));
        await using var other = await StartNodeAsync("other", b => b.AddHandler("other", (_, _) => Task.CompletedTask));
        await Eventually.Until(CountListenersAsync, n => n == 2, because: "both nodes listen");
        var latencies = new List<double>();

        for (var i = 0; i < 5; i++)
        {
            started = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);

            // Straight into the other node's store: its own dispatcher is not woken in process, so only the worker's LISTEN can start it.
            var before = Stopwatch.GetTimestamp();
            await other.Store.TasksInsertAsync(new TasksInsertParams([NewTask("t", DateTimeOffset.UtcNow)]), CancellationToken.None);
            var at = await started.Task.WaitAsync(TimeSpan.FromSeconds(5));
            latencies.Add(Stopwatch.GetElapsedTime(before, at).TotalMilliseconds);
        }

        output.WriteLine($"insert-to-start across nodes, ms: {string.Join(", ", latencies.Select(l => l.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)))}");
        Assert.True(latencies.Order().ElementAt(2) < 500, "the median start is far below any poll");
    }

    [Fact]
    public async Task Stop_SentToOneNode_CancelsTheTaskRunningOnAnother()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var observed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var owner = await StartNodeAsync("owner", b => b.AddHandler("long", async (_, ct) =>
        {
            started.TrySetResult();
            await Cancellation.ObserveAsync(observed, ct);
        }), o => o.StopPollInterval = TimeSpan.FromHours(1));
        // The front node has no handler for the task, so it can only relay the stop.
        await using var front = await StartNodeAsync("front", b => b.AddHandler("other", (_, _) => Task.CompletedTask));
        await Eventually.Until(CountListenersAsync, n => n == 2, because: "both nodes listen");
        var id = (await owner.Store.TasksInsertAsync(new TasksInsertParams([NewTask("long", DateTimeOffset.UtcNow)]), CancellationToken.None))[0].Id;
        owner.Host.Services.GetService(typeof(TaskSystem.Engine.WakeSignal)).As<TaskSystem.Engine.WakeSignal>().Set();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(5));

        var watch = Stopwatch.StartNew();
        var result = await front.Manager.StopAsync(id);
        output.WriteLine($"cross-node stop answered in {watch.Elapsed.TotalMilliseconds:0.0} ms");

        Assert.True(observed.Task.IsCompleted, "the owner's handler saw its token cancelled (by the signal: its stop poll is an hour)");
        Assert.Equal((StopOutcome.Cancelled, TaskState.Cancelled, "owner"), (result.Outcome, result.Task!.State, result.Task.Node));
    }

    [Fact]
    public async Task DeadNodesTask_IsRescuedAfterItsLease_RunsAgain_AndTheDeadNodesLateCompletionIsFenced()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var attempts = new List<int>();
        var (id, claim, dead) = await ClaimOnADeadNodeAsync(time);
        await using var _ = dead;
        await using var alive = await StartNodeAsync("alive", b => b.AddHandler("t", (ctx, _) => { lock (attempts) { attempts.Add(ctx.Attempt); } return Task.CompletedTask; }),
            o =>
            {
                // The dead node's lease (30 s) is in its row; the live node's own is long, so that the fake clock,
                // which runs ahead of the work, cannot make it fence the rescued attempt before its outcome is written.
                o.LeaseDuration = TimeSpan.FromHours(1);
                o.RescueInterval = TimeSpan.FromSeconds(5);
            }, time);

        time.Advance(TimeSpan.FromSeconds(25));
        Assert.Equal(TaskState.Running, (await alive.Manager.GetAsync(id))!.State);
        var done = await AdvanceUntilAsync(time, alive, id, TaskState.Succeeded);
        Assert.Equal((2, "alive"), (done.Attempt, done.Node));
        Assert.Equal([2], attempts);
        var late = await dead.TasksCompleteAsync(new TasksCompleteParams([new TaskCompletion(id, "dead", claim.ClaimId!.Value, CompletionKind.Failed, time.GetUtcNow(), Error: "late")]), CancellationToken.None);
        Assert.False(Assert.Single(late));
        Assert.Equal(TaskState.Succeeded, (await alive.Manager.GetAsync(id))!.State);
    }

    [Fact]
    public async Task StopOfADeadNodesTask_EndsCancelled_NeverRerun()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var runs = 0;
        var (id, _, dead) = await ClaimOnADeadNodeAsync(time);
        await using var _ = dead;
        await using var alive = await StartNodeAsync("alive", b => b.AddHandler("t", (_, _) => { Interlocked.Increment(ref runs); return Task.CompletedTask; }),
            o => { o.RescueInterval = TimeSpan.FromSeconds(5); o.StopGracePeriod = TimeSpan.FromSeconds(1); }, time);

        var stopping = alive.Manager.StopAsync(id);
        await Eventually.Until(async () => (await alive.Manager.GetAsync(id))!, t => t.StopRequested, because: "the stop flag is written");
        time.Advance(TimeSpan.FromSeconds(25));
        var task = await AdvanceUntilAsync(time, alive, id, TaskState.Cancelled);
        time.Advance(TimeSpan.FromSeconds(60));
        var result = await stopping.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(result.Outcome is StopOutcome.Cancelled or StopOutcome.Pending, $"outcome {result.Outcome}");
        Assert.Equal((1, 0), (task.Attempt, runs));
    }

    [Fact]
    public async Task SecondLiveNodeWithTheSameName_IsRefusedAtStart()
    {
        await using var first = await StartNodeAsync("same", b => b.AddHandler("t", (_, _) => Task.CompletedTask));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartNodeAsync("same", b => b.AddHandler("t", (_, _) => Task.CompletedTask)));

        Assert.Contains("Another live node is named 'same'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListenConnection_KilledByTheServer_ReconnectsAndSignalsArriveAgain()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var worker = await StartNodeAsync("worker", b => b.AddHandler("t", (_, _) => { started.TrySetResult(); return Task.CompletedTask; }),
            o => o.PollInterval = TimeSpan.FromHours(1));
        await using var other = await StartNodeAsync("other", b => b.AddHandler("other", (_, _) => Task.CompletedTask));
        await Eventually.Until(CountListenersAsync, n => n == 2, because: "both nodes listen");
        await using (var admin = new NpgsqlConnection(_connectionString))
        {
            await admin.OpenAsync();
            await using var kill = new NpgsqlCommand(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'", admin);
            Assert.Equal(2L, await kill.ExecuteScalarAsync());
        }

        // Reconnected once both listeners are back; then a signal from the other node must start the task.
        await Eventually.Until(CountListenersAsync, n => n == 2, because: "both nodes listen again");
        await other.Store.TasksInsertAsync(new TasksInsertParams([NewTask("t", DateTimeOffset.UtcNow)]), CancellationToken.None);

        await started.Task.WaitAsync(TimeSpan.FromSeconds(5));
    }

    private async Task<long> CountListenersAsync()
    {
        await using var admin = new NpgsqlConnection(_connectionString);
        await admin.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'", admin);
        return (long)(await count.ExecuteScalarAsync())!;
    }
}

internal static class ObjectExtensions
{
    public static T As<T>(this object? value) => (T)value!;
}
