using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using TaskSystem.PostgreSql;
using TaskSystem.Scheduling;
using TaskSystem.Storage;
using TaskSystem.Tests.Support;
using Xunit.Abstractions;

namespace TaskSystem.Tests.Scheduling;

/// <summary>
/// Nodes on one PostgreSQL database running the scheduler on the real clock. (Three nodes, one killed mid-run, making
/// one task per tick: tests/TaskSystem.Cluster.Tests/ScheduleClusterTests.cs, with real processes.)
/// </summary>
public sealed class PostgresScheduleClusterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private string _connectionString = null!;

    public async Task InitializeAsync() => _connectionString = await PostgresDatabases.CreateAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private static async Task<List<TaskRecord>> TicksAsync(ITaskStore store) =>
        [.. (await store.TasksListAsync(new TasksListParams(null, "tick", null, null, 1000), CancellationToken.None))
            .Where(t => t.Schedule == "pulse").OrderBy(t => t.ScheduledFor)];

    [Fact]
    public async Task ScheduleWrittenOnAnotherNode_ReachesARunningScheduler_ByItsSignal_NotItsRefresh()
    {
        // The node with the scheduler has no schedule: its timer waits for the 30 s refresh.
        await using var node = await PostgresEngineHosts.StartAsync(_connectionString, "runner", b => b.AddHandler("tick", (_, _) => Task.CompletedTask));
        await using var writer = new PostgresTaskStore(_connectionString, 2, "writer", TimeProvider.System, NullLogger<PostgresTaskStore>.Instance);
        await Eventually.Until(ListensForSchedulesAsync, listening => listening, TimeSpan.FromSeconds(20), "the node to listen for schedule changes");

        var written = Stopwatch.StartNew();
        var now = DateTimeOffset.UtcNow;
        await writer.ScheduleUpsertAsync(
            new ScheduleUpsertParams(new ScheduleRecord("pulse", null, "UTC", TimeSpan.FromSeconds(1), """{"type":"tick"}""", false, "allow", "skip", now.AddMilliseconds(200), null, null, now)),
            CancellationToken.None);

        var ticks = await Eventually.Until(() => TicksAsync(node.Store), t => t.Count >= 1, ScheduleRunner.RefreshInterval / 3, "the first tick of a schedule written elsewhere");
        output.WriteLine($"first tick's task {written.ElapsedMilliseconds} ms after the write; tick to task {(ticks[0].CreatedAt - ticks[0].ScheduledFor!.Value).TotalMilliseconds:0.0} ms");
        Assert.True(written.Elapsed < ScheduleRunner.RefreshInterval / 3, $"the first tick came {written.Elapsed} after the write");
    }

    /// <summary>True once a session listens on the schedules channel: its last statement was the LISTEN.</summary>
    private async Task<bool> ListensForSchedulesAsync()
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %tasksystem_schedules%'", connection);
        return (long)(await command.ExecuteScalarAsync())! > 0;
    }
}
