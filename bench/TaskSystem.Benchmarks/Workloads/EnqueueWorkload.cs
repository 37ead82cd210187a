using System.Diagnostics;
using System.Diagnostics.Metrics;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using TaskSystem.Benchmarks.Subjects;
using TaskSystem.Benchmarks.Support;

namespace TaskSystem.Benchmarks.Workloads;

/// <summary>Durable enqueue through the library API, one task per call, with 1 and 16 concurrent callers.</summary>
internal sealed class EnqueueWorkload : IWorkload
{
    public string Name => "enqueue";

    public string Description => "durable enqueue through the library API (each call returns after its commit)";

    public async Task RunAsync(BenchContext context)
    {
        var duration = context.Options.Duration(5, 0.5);
        foreach (var callers in new[] { 1, 16 })
        {
            await using var node = TaskSystemNode.Sqlite(context.NewFolder(), workers: 5);
            await node.Manager.EnqueueAsync(new TaskRequest("noop")); // opens the database
            using var commits = new SqliteCommitCounter(node.Host.Services.GetRequiredService<IMeterFactory>());
            var clock = Stopwatch.StartNew();
            var enqueued = await Callers.RepeatAsync(duration, callers, () => node.Manager.EnqueueAsync(new TaskRequest("noop")));
            var ours = context.Report.Add("enqueue", $"TaskSystem SQLite, {callers} callers", enqueued / clock.Elapsed.TotalSeconds, "tasks/s");
            var perCommit = context.Report.Add("enqueue", $"TaskSystem SQLite, {callers} callers: tasks per fsync'd commit", enqueued / (double)Math.Max(1, commits.Fsynced), "tasks");
            context.Report.Ratio($"enqueue-sqlite-{callers}c-per-commit", perCommit, "durable enqueues per fsync the writer made (counted commits)");

            using var hangfire = HangfireNode.Sqlite(context.NewFolder(), workers: 5);
            var theirs = context.Report.Add("enqueue", $"Hangfire SQLite, {callers} callers",
                await MeasureAsync(duration, callers, () => Task.Run(() => hangfire.Client.Enqueue(() => HangfireJobs.Noop()))), "tasks/s");
            using var memory = HangfireNode.InMemory(workers: 5);
            context.Report.Add("enqueue", $"Hangfire in-memory (not durable), {callers} callers",
                await MeasureAsync(duration, callers, () => Task.Run(() => memory.Client.Enqueue(() => HangfireJobs.Noop()))), "tasks/s");
            context.Report.Ratio($"enqueue-sqlite-{callers}c", ours / theirs, $"TaskSystem ÷ Hangfire, durable enqueue on SQLite, {callers} callers");
            if (context.Report.Find("fsync'd 100-byte writes") is { } fsyncs)
            {
                context.Report.Ratio($"enqueue-sqlite-{callers}c-per-fsync", ours / fsyncs, "durable enqueues per fsync the disk allows (group commit)");
            }
        }
    }

    public static async Task<double> MeasureAsync(TimeSpan duration, int callers, Func<Task> enqueue)
    {
        var clock = Stopwatch.StartNew();
        var done = await Callers.RepeatAsync(duration, callers, enqueue);
        return done / clock.Elapsed.TotalSeconds;
    }
}
