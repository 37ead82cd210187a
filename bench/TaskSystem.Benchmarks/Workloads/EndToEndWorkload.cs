using System.Diagnostics;
using Hangfire;
using TaskSystem.Benchmarks.Subjects;
using TaskSystem.Benchmarks.Support;

namespace TaskSystem.Benchmarks.Workloads;

/// <summary>
/// N no-op tasks enqueued up front, then drained, with 5 and 20 workers: TaskSystem and Hangfire on the same
/// storage, one after the other, plus Hangfire's in-memory store (not durable) as the reference. Then a steady mix.
/// </summary>
internal sealed class EndToEndWorkload : IWorkload
{
    /// <summary>The fewest jobs a throughput ratio is computed from.</summary>
    private const int MinimumJobs = 1_000;

    /// <summary>The fewest jobs Hangfire must have processed in the steady mix for its rate to be compared (a second of quick mode gives a handful).</summary>
    private const int MinimumMixJobs = 100;

    private static readonly int[] WorkerCounts = [5, 20];

    public string Name => "e2e";

    public string Description => "end-to-end throughput of no-op tasks, enqueued up front then drained";

    public async Task RunAsync(BenchContext context)
    {
        var options = context.Options;
        var count = options.Size(50_000, 1_000);

        // Hangfire on durable storage runs at about a hundred jobs a second: fewer jobs, same per-second rate. Quick
        // mode's thirty are too few for a rate (its start-up weighs as much as the jobs): its ratios say so.
        var hangfireDurableCount = options.Size(2_000, 30);
        var report = context.Report;

        // Warm the JIT, as a server that has run for a while would be: every TaskSystem drain measured below (each
        // worker count, each store), then until the background recompiles are done, so that no drain is charged for
        // them. Hangfire and the raw store loops are not warmed: their rates are not divided by their CPU.
        foreach (var workers in WorkerCounts)
        {
            await TaskSystemSqliteAsync(context, options.Size(20_000, 500), workers);
            if (!options.Quick && await context.PostgresAsync() is { } warmPostgres)
            {
                await PostgresBench.TaskSystemDrainAsync(warmPostgres, options.Size(20_000, 500), workers);
            }
        }

        if (!options.Quick)
        {
            var compiled = await JitSettle.WaitAsync(quiet: TimeSpan.FromSeconds(1), deadline: TimeSpan.FromSeconds(15));
            Console.WriteLine($"  (warm-up done; {compiled} methods compiled while waiting for the JIT to settle)");
        }

        foreach (var workers in WorkerCounts)
        {
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var ours = report.Add("e2e", $"TaskSystem SQLite, {workers} workers", await TaskSystemSqliteAsync(context, count, workers), "tasks/s");
            report.Add("e2e-cpu", $"TaskSystem SQLite, {workers} workers: CPU per task (enqueue + run + outcome)", (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMicroseconds / count, "µs");
            var theirs = report.Add("e2e", $"Hangfire SQLite, {workers} workers ({hangfireDurableCount} jobs)", HangfireRun(HangfireNode.Sqlite(context.NewFolder(), workers), hangfireDurableCount, context.Options), "tasks/s");
            var memory = report.Add("e2e", $"Hangfire in-memory (not durable), {workers} workers", HangfireRun(HangfireNode.InMemory(workers), count, context.Options), "tasks/s");
            report.RatioIfEnough($"e2e-sqlite-{workers}w", ours / theirs, $"TaskSystem ÷ Hangfire, both on SQLite, {workers} workers", hangfireDurableCount, MinimumJobs);
            report.Ratio($"e2e-sqlite-vs-hangfire-inmemory-{workers}w", ours / memory, $"TaskSystem on SQLite ÷ Hangfire in memory, {workers} workers");
            await RawStoreRatiosAsync(context, "SQLite", "sqlite", workers, ours, round => RawStoreDrain.SqliteAsync(context.NewFolder(), count, round));

            if (await context.PostgresAsync() is { } postgres)
            {
                var oursPg = report.Add("e2e", $"TaskSystem PostgreSQL, {workers} workers", await PostgresBench.TaskSystemDrainAsync(postgres, count, workers, report), "tasks/s");
                var theirsPg = report.Add("e2e", $"Hangfire PostgreSQL, {workers} workers ({hangfireDurableCount} jobs)", HangfireRun(HangfireNode.Postgres(PostgresServer.NewDatabase(), workers), hangfireDurableCount, context.Options), "tasks/s");
                report.RatioIfEnough($"e2e-postgres-{workers}w", oursPg / theirsPg, $"TaskSystem ÷ Hangfire, both on PostgreSQL, {workers} workers", hangfireDurableCount, MinimumJobs);
                await RawStoreRatiosAsync(context, "PostgreSQL", "postgres", workers, oursPg, round => RawStoreDrain.PostgresAsync(PostgresServer.NewDatabase(), count, round));
            }
        }

        await SteadyMixAsync(context);
    }

    /// <summary>
    /// The store alone drained in rounds of the engine's size (its worker count) and of a thousand, beside the engine's
    /// drain of the same count measured just before: engine ÷ raw store for both.
    /// </summary>
    private static async Task RawStoreRatiosAsync(BenchContext context, string store, string key, int workers, double engine, Func<int, Task<double>> drain)
    {
        var report = context.Report;
        var sameRound = report.Add("e2e-raw", $"{store} store alone, rounds of {workers}", await drain(workers), "tasks/s");
        var ceiling = report.Add("e2e-raw", $"{store} store alone, rounds of 1000", await drain(1000), "tasks/s");
        report.Ratio($"e2e-{key}-{workers}w-vs-raw-{workers}", engine / sameRound, $"TaskSystem {store} with {workers} workers ÷ the store alone in rounds of {workers}");
        report.Ratio($"e2e-{key}-{workers}w-vs-raw-1000", engine / ceiling, $"TaskSystem {store} with {workers} workers ÷ the store alone in rounds of 1000 (its ceiling)");
    }

    private static async Task<double> TaskSystemSqliteAsync(BenchContext context, int count, int workers)
    {
        await using var node = TaskSystemNode.Sqlite(context.NewFolder(), workers);
        await node.EnqueueNoopsAsync(count);
        return await node.StartAndDrainAsync(count);
    }

    /// <summary>A Hangfire drain; in quick mode one that does not drain is given 20 seconds, not three minutes.</summary>
    private static double HangfireRun(HangfireNode node, int count, BenchOptions options)
    {
        using (node)
        {
            node.EnqueueNoops(count);
            return node.StartAndDrain(count, options.Quick ? TimeSpan.FromSeconds(20) : null);
        }
    }

    /// <summary>Producers enqueue one task per call while 20 workers process: the rate that is both accepted and done.</summary>
    private static async Task SteadyMixAsync(BenchContext context)
    {
        var duration = context.Options.Duration(10, 0.5);
        const int Producers = 8;
        const int Workers = 20;

        await using (var node = TaskSystemNode.Sqlite(context.NewFolder(), Workers))
        {
            await node.StartAsync();
            var enqueued = await Callers.RepeatAsync(duration, Producers, () => node.Manager.EnqueueAsync(new TaskRequest("noop")));
            var processed = node.Executed;
            context.Report.Add("e2e", $"TaskSystem SQLite steady mix: enqueued ({Producers} producers, {Workers} workers)", enqueued / duration.TotalSeconds, "tasks/s");
            var ours = context.Report.Add("e2e", $"TaskSystem SQLite steady mix: processed", processed / duration.TotalSeconds, "tasks/s");

            using var hangfire = HangfireNode.Sqlite(context.NewFolder(), Workers);
            hangfire.Start();
            var before = HangfireJobs.Executed;
            var hangfireEnqueued = await Callers.RepeatAsync(duration, Producers, () => Task.Run(() => hangfire.Client.Enqueue(() => HangfireJobs.Noop())));
            var hangfireProcessed = HangfireJobs.Executed - before;
            context.Report.Add("e2e", $"Hangfire SQLite steady mix: enqueued", hangfireEnqueued / duration.TotalSeconds, "tasks/s");
            var theirs = context.Report.Add("e2e", $"Hangfire SQLite steady mix: processed", hangfireProcessed / duration.TotalSeconds, "tasks/s");
            context.Report.RatioIfEnough(
                "e2e-mix-sqlite", ours / Math.Max(theirs, 0.001), "TaskSystem ÷ Hangfire, both on SQLite, tasks processed while producers enqueue",
                (int)hangfireProcessed, MinimumMixJobs);
        }
    }
}
