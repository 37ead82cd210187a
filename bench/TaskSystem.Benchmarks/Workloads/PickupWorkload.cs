using System.Diagnostics;
using Hangfire;
using TaskSystem.Benchmarks.Subjects;
using TaskSystem.Benchmarks.Support;

namespace TaskSystem.Benchmarks.Workloads;

/// <summary>On an idle node: from the enqueue call to the handler's start.</summary>
internal sealed class PickupWorkload : IWorkload
{
    public string Name => "pickup";

    public string Description => "idle pickup latency (enqueue call to handler start)";

    public async Task RunAsync(BenchContext context)
    {
        var samples = context.Options.Size(300, 15);
        await using (var node = TaskSystemNode.Sqlite(context.NewFolder(), workers: 5))
        {
            await node.StartAsync();
            var ours = await MeasureAsync(node, samples);
            ours.Report(context.Report, "pickup", "TaskSystem SQLite pickup");
            using var memory = HangfireNode.InMemory(workers: 5);
            var theirs = MeasureHangfire(memory, samples);
            theirs.Report(context.Report, "pickup", "Hangfire in-memory pickup");
            using var sqlite = HangfireNode.Sqlite(context.NewFolder(), workers: 5);
            MeasureHangfire(sqlite, Math.Min(samples, 30)).Report(context.Report, "pickup", "Hangfire SQLite pickup");
            context.Report.Ratio("pickup-sqlite-p50", theirs.Percentile(50) / ours.Percentile(50), "Hangfire in-memory p50 ÷ TaskSystem SQLite p50 (above 1: TaskSystem is faster)");
        }

        if (await context.PostgresAsync() is not null)
        {
            // Two nodes on one database: one only enqueues (it is not started), the other runs; LISTEN/NOTIFY wakes it.
            var database = PostgresServer.NewDatabase();
            await using var runner = TaskSystemNode.Postgres(database, 5, "runner", b => b.UsePostgreSql());
            await using var enqueuer = TaskSystemNode.Postgres(database, 5, "enqueuer", b => b.UsePostgreSql());
            await runner.StartAsync();
            var latencies = new Latencies();
            for (var i = 0; i < samples; i++)
            {
                await Task.Delay(2);
                var start = Stopwatch.GetTimestamp();
                var task = await enqueuer.Manager.EnqueueAsync(new TaskRequest("probe"));
                latencies.Add(Stopwatch.GetElapsedTime(start, await runner.Probes.WhenStarted(task.Id)));
            }

            latencies.Report(context.Report, "pickup", "TaskSystem PostgreSQL pickup, enqueued on another node");
        }
    }

    public static async Task<Latencies> MeasureAsync(TaskSystemNode node, int samples)
    {
        var latencies = new Latencies();
        for (var i = 0; i < samples; i++)
        {
            // Let the node go idle, as between requests.
            await Task.Delay(2);
            var start = Stopwatch.GetTimestamp();
            var task = await node.Manager.EnqueueAsync(new TaskRequest("probe"));
            var started = await node.Probes.WhenStarted(task.Id);
            latencies.Add(Stopwatch.GetElapsedTime(start, started));
        }

        return latencies;
    }

    private static Latencies MeasureHangfire(HangfireNode node, int samples)
    {
        node.Start();
        var latencies = new Latencies();
        for (var i = 0; i < samples; i++)
        {
            Thread.Sleep(2);
            var key = Guid.NewGuid().ToString("N");
            var start = Stopwatch.GetTimestamp();
            node.Client.Enqueue(() => HangfireJobs.Probe(key));
            var started = HangfireJobs.Probes.WhenStarted(key).GetAwaiter().GetResult();
            latencies.Add(Stopwatch.GetElapsedTime(start, started));
        }

        return latencies;
    }
}
