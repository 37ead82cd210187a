using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using TaskSystem.AspNetCore.Dashboard;
using TaskSystem.Server.Tests.Support;
using TaskSystem.Storage.Sqlite;
using Xunit.Abstractions;

namespace TaskSystem.Server.Tests.Dashboard;

/// <summary>
/// What the dashboard costs the store with 100,000 tasks in SQLite: the watcher's per-tick read, the overview,
/// and list pages. The figures are printed (docs/dashboard.md quotes them); the bounds only catch a lost index.
/// And that the overview costs the same with twenty times the finished tasks.
/// </summary>
public sealed class DashboardCostTests(ITestOutputHelper output)
{
    private const int Tasks = 100_000;

    [Fact]
    public async Task Queries_With100kTasks_StayCheap()
    {
        await using var factory = new ApiFactory();
        using var client = factory.CreateClient(); // Starts the server: the schema exists.
        var seeding = Stopwatch.StartNew();
        Seed(factory.ConnectionString);
        output.WriteLine($"seeded {Tasks:N0} tasks in {seeding.ElapsedMilliseconds} ms");

        var queries = factory.Services.GetRequiredService<DashboardQueries>();
        var manager = factory.Services.GetRequiredService<TaskManager>();
        var stats = await queries.ReadStatsAsync(CancellationToken.None);
        Assert.Equal(Tasks, stats.Total);

        var tick = await MeasureAsync("watcher tick: counts per state + newest id", 20, () => queries.ReadStatsAsync(CancellationToken.None));
        await MeasureAsync("  counts per state alone", 20, () => manager.CountByStateAsync());
        await MeasureAsync("  newest id alone", 20, () => manager.ListAsync(new TaskListQuery(Limit: 1)));
        var overview = await MeasureAsync("overview (every 2 s at most while things change)", 5, () => queries.ReadOverviewAsync(stats, CancellationToken.None));
        await MeasureAsync("  counts per queue and state", 5, () => manager.CountByQueueAsync());
        await MeasureAsync("  finished per minute, last hour", 5, () => manager.FinishedHistogramAsync(DateTimeOffset.UtcNow.AddHours(-1), TimeSpan.FromMinutes(1)));
        var page = await MeasureAsync("list: first page of 50, all states", 20, () => manager.ListAsync(new TaskListQuery(Limit: 50)));
        await MeasureAsync("list: first page of 50, failed", 20, () => manager.ListAsync(new TaskListQuery([TaskState.Failed], Limit: 50)));
        await MeasureAsync("list: page of 50, all states, cursor near the oldest", 20, () => manager.ListAsync(new TaskListQuery(Limit: 50, Cursor: "2000")));
        await MeasureAsync("list: first page of 50, queue q3", 20, () => manager.ListAsync(new TaskListQuery(Queue: "q3", Limit: 50)));
        await MeasureAsync("list: queue rare (its 10 tasks are the oldest: worst case)", 5, () => manager.ListAsync(new TaskListQuery(Queue: "rare", Limit: 50)));
        await MeasureAsync("list: first page of 50, succeeded + failed, type bulk", 20, () => manager.ListAsync(new TaskListQuery([TaskState.Succeeded, TaskState.Failed], "bulk", Limit: 50)));

        // Generous bounds for a busy two-core machine; a missing index would blow through them.
        Assert.True(tick < TimeSpan.FromMilliseconds(250), $"a watcher tick took {tick.TotalMilliseconds} ms");
        Assert.True(page < TimeSpan.FromMilliseconds(100), $"a list page took {page.TotalMilliseconds} ms");
        Assert.True(overview < TimeSpan.FromSeconds(2), $"the overview took {overview.TotalMilliseconds} ms");
    }

    /// <summary>
    /// Two servers, the same 100 queued tasks, one with 10,000 finished tasks and one with 200,000: the overview (and
    /// the watcher's tick) must cost them the same, as it reads counters, not finished rows. Timed in turns, one call
    /// on each server after the other, and compared by their fastest runs: load on the machine slows both alike and
    /// cannot make the fastest run of either slow, while a scan of the finished rows would cost the larger one twenty times more.
    /// </summary>
    [Fact]
    public async Task Overview_WithTwentyTimesTheFinishedTasks_CostsTheSame()
    {
        await using var small = new ApiFactory();
        await using var large = new ApiFactory();
        using var smallClient = small.CreateClient();
        using var largeClient = large.CreateClient();
        Seed(small.ConnectionString, 10_000, everyNthQueued: 100);
        Seed(large.ConnectionString, 200_000, everyNthQueued: 2_000);
        var smallQueries = small.Services.GetRequiredService<DashboardQueries>();
        var largeQueries = large.Services.GetRequiredService<DashboardQueries>();
        Assert.Equal((10_000L, 200_000L), ((await smallQueries.ReadStatsAsync(CancellationToken.None)).Total, (await largeQueries.ReadStatsAsync(CancellationToken.None)).Total));
        Assert.Equal(100L, (await largeQueries.ReadStatsAsync(CancellationToken.None)).Counts["queued"]);

        var smallTimes = new List<double>();
        var largeTimes = new List<double>();
        for (var run = 0; run < 30; run++)
        {
            smallTimes.Add(await TimeAsync(() => smallQueries.ReadOverviewAsync(null, CancellationToken.None)));
            largeTimes.Add(await TimeAsync(() => largeQueries.ReadOverviewAsync(null, CancellationToken.None)));
        }

        var (fastestSmall, fastestLarge) = (smallTimes.Min(), largeTimes.Min());
        output.WriteLine($"overview, fastest of 30: {fastestSmall:F2} ms with 10,000 finished tasks, {fastestLarge:F2} ms with 200,000 (medians {Median(smallTimes):F2} and {Median(largeTimes):F2})");
        Assert.True(fastestLarge < (3 * fastestSmall) + 2, $"the overview took {fastestLarge:F2} ms with 200,000 finished tasks against {fastestSmall:F2} ms with 10,000");
    }

    private static async Task<double> TimeAsync<T>(Func<Task<T>> query)
    {
        var watch = Stopwatch.StartNew();
        await query();
        return watch.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> times) => times.Order().ElementAt(times.Count / 2);

    /// <summary>Runs the query once to warm up, then <paramref name="runs"/> times; prints and returns the median.</summary>
    private async Task<TimeSpan> MeasureAsync<T>(string what, int runs, Func<Task<T>> query)
    {
        await query();
        var times = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var watch = Stopwatch.StartNew();
            await query();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        var median = times[times.Count / 2];
        output.WriteLine($"{what,-58} median {median,7:F2} ms  (min {times[0]:F2}, max {times[^1]:F2})");
        return TimeSpan.FromMilliseconds(median);
    }

    /// <summary>
    /// 100,000 tasks of an unhandled type (so nothing runs them), in five queues (and the ten oldest in a sixth,
    /// "rare"), finished evenly over the last two hours (half of them in the chart's hour): about 90% succeeded,
    /// 4% queued, 3% cancelled, 2% failed.
    /// </summary>
    private static void Seed(string connectionString)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $$"""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $count)
            INSERT INTO tasks (type, queue, priority, payload, state, attempt, max_attempts, timeout_ms,
                               created_at, run_at, started_at, finished_at, result, error, node)
            SELECT 'bulk', CASE WHEN i <= 10 THEN 'rare' ELSE 'q' || (i % 5) END, 0, '{"n":' || i || ',"to":"someone@example.com"}',
                   CASE WHEN i % 50 = 0 THEN 'failed' WHEN i % 33 = 0 THEN 'cancelled' WHEN i % 20 = 0 THEN 'queued' ELSE 'succeeded' END,
                   CASE WHEN i % 20 = 0 AND i % 50 <> 0 AND i % 33 <> 0 THEN 0 ELSE 1 END, 3, 60000,
                   $now - ($count - i) * 72 - 500, $now - ($count - i) * 72 - 500, $now - ($count - i) * 72 - 400,
                   CASE WHEN i % 20 = 0 AND i % 50 <> 0 AND i % 33 <> 0 THEN NULL ELSE $now - ($count - i) * 72 END,
                   CASE WHEN i % 50 = 0 OR i % 33 = 0 OR i % 20 = 0 THEN NULL ELSE '{"sent":true}' END,
                   CASE WHEN i % 50 = 0 THEN 'boom' ELSE NULL END,
                   CASE WHEN i % 20 = 0 AND i % 50 <> 0 AND i % 33 <> 0 THEN NULL ELSE 'bulk-node' END
            FROM n;
            {{SqliteSchema.RecountSql}}
            """;
        command.Parameters.AddWithValue("$count", Tasks);
        command.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// <paramref name="count"/> tasks of an unhandled type in five queues, finished over the last two hours but every
    /// <paramref name="everyNthQueued"/>th, which is queued; written in bulk, then counted as the store would have.
    /// </summary>
    private static void Seed(string connectionString, int count, int everyNthQueued)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $$"""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $count)
            INSERT INTO tasks (type, queue, priority, payload, state, attempt, max_attempts, timeout_ms, created_at, run_at, started_at, finished_at, node)
            SELECT 'bulk', 'q' || (i % 5), 0, '{"n":' || i || '}', CASE WHEN i % $queued = 0 THEN 'queued' WHEN i % 10 = 0 THEN 'failed' ELSE 'succeeded' END,
                   1, 3, 60000, $now - ($count - i) * $step, $now - ($count - i) * $step, $now - ($count - i) * $step,
                   CASE WHEN i % $queued = 0 THEN NULL ELSE $now - ($count - i) * $step END, 'bulk-node'
            FROM n;
            {{SqliteSchema.RecountSql}}
            """;
        command.Parameters.AddWithValue("$count", count);
        command.Parameters.AddWithValue("$queued", everyNthQueued);
        command.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$step", 7_200_000 / count);
        command.ExecuteNonQuery();
    }
}
