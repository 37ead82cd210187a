using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using TaskSystem.Benchmarks.Subjects;
using TaskSystem.Benchmarks.Support;
using TaskSystem.PostgreSql;

namespace TaskSystem.Benchmarks.Workloads;

/// <summary>The PostgreSQL side of the workloads.</summary>
internal static class PostgresBench
{
    /// <summary>
    /// Enqueues <paramref name="count"/> no-op tasks (batches of a thousand), then starts a node on PostgreSQL and times
    /// their drain. With a report, also what the enqueue and the drain cost the server per task (<see cref="PostgresCost"/>):
    /// the schema is created first and left out, the enqueue runs on a node of its own that is disposed before the
    /// draining node starts, so that each phase's backends have exited (and published their counters) before its
    /// snapshot.
    /// </summary>
    public static async Task<double> TaskSystemDrainAsync(PostgresServer postgres, int count, int workers, Report? costReport = null)
    {
        _ = postgres;
        var database = PostgresServer.NewDatabase();
        await using (var schema = new PostgresTaskStore(database, 1, "schema", TimeProvider.System, NullLogger<PostgresTaskStore>.Instance))
        {
            await schema.MigrateAsync(CancellationToken.None);
        }

        using var cost = costReport is null ? null : await PostgresCost.ForAsync(database);
        var before = cost is null ? null : await cost.SnapshotAsync();
        await using (var enqueuer = Node(database, workers))
        {
            await enqueuer.EnqueueNoopsAsync(count);
        }

        var enqueued = cost is null ? null : await cost.SnapshotAsync();
        double rate;
        var nodeCpu = Environment.CpuUsage.TotalTime;
        await using (var node = Node(database, workers))
        {
            rate = await node.StartAndDrainAsync(count);
        }

        nodeCpu = Environment.CpuUsage.TotalTime - nodeCpu;

        if (cost is not null && costReport is not null)
        {
            var drained = await cost.SnapshotAsync();
            Console.WriteLine($"  PostgreSQL cost of the enqueue, {count} tasks in batches of 1,000:");
            PostgresCost.Report(costReport, $"PostgreSQL enqueue (batches of 1,000), {workers}-worker run", before!, enqueued!, count);
            Console.WriteLine($"  PostgreSQL cost of the drain, {workers} workers (claim, run, outcome):");
            PostgresCost.Report(costReport, $"PostgreSQL drain, {workers} workers", enqueued!, drained, count);

            // The other half of a PostgreSQL task's CPU: the node (this process: its start, the drain, its stop, and the
            // cost sampler's reads of /proc, a few µs per task).
            costReport.Add("pg-cost", $"PostgreSQL drain, {workers} workers: node CPU per task (the TaskSystem process)", nodeCpu.TotalMicroseconds / count, "µs");
            var whole = drained.Minus(before!);
            void Ratio(string what, double value, string meaning) =>
                costReport.Ratio($"pg-cost-{workers}w-{what}", value / count, string.Create(CultureInfo.InvariantCulture, $"{meaning} per task, enqueue and drain with {workers} workers (PostgreSQL)"));
            Ratio("commits", whole.Commits, "commits");
            Ratio("wal-bytes", whole.WalBytes, "WAL bytes");
            Ratio("wal-records", whole.WalRecords, "WAL records");
            Ratio("wal-fsyncs", whole.WalSyncs, "WAL flushes (fsyncs)");
            Ratio("statements", whole.Statements, "statements");
            Ratio("server-cpu-us", whole.ServerCpu.TotalMicroseconds, "server CPU µs");
        }

        return rate;
    }

    private static TaskSystemNode Node(string database, int workers) => TaskSystemNode.Postgres(database, workers, "bench", b => b.UsePostgreSql());
}
