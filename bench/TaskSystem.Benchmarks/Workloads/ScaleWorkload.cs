using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using TaskSystem.Benchmarks.Subjects;
using TaskSystem.Benchmarks.Support;
using TaskSystem.Storage;
using TaskSystem.TestSupport;

namespace TaskSystem.Benchmarks.Workloads;

/// <summary>
/// A million queued tasks: the server's memory and start-up time, and whether enqueue and pickup slow down
/// with the queue's length (the queue lives in the database; only running tasks are in memory).
/// </summary>
internal sealed class ScaleWorkload : IWorkload
{
    public string Name => "scale";

    public string Description => "a deep queue: server memory and start-up, enqueue and pickup with it queued";

    public async Task RunAsync(BenchContext context)
    {
        var queued = context.Options.Size(1_000_000, 10_000);
        var label = queued >= 1_000_000 ? $"{queued / 1_000_000}M" : $"{queued / 1000}k";
        var report = context.Report;
        var empty = context.NewFolder();
        var deep = context.NewFolder();
        await FillAsync(report, deep, queued, label);

        var (emptyStart, _) = await ServerFiguresAsync(empty);
        var (deepStart, deepRss) = await ServerFiguresAsync(deep);
        report.Add("scale", "server start-up to ready, empty queue", emptyStart.TotalMilliseconds, "ms");
        report.Add("scale", $"server start-up to ready, {label} queued", deepStart.TotalMilliseconds, "ms");
        report.Add("scale", $"server peak RSS, {label} queued", deepRss, "MiB");

        var duration = context.Options.Duration(3, 0.3);
        var samples = context.Options.Size(200, 20);
        var (emptyEnqueue, emptyPickup) = await NodeFiguresAsync(empty, duration, samples);
        var (deepEnqueue, deepPickup) = await NodeFiguresAsync(deep, duration, samples);
        report.Add("scale", "enqueue, 16 callers, empty queue", emptyEnqueue, "tasks/s");
        report.Add("scale", $"enqueue, 16 callers, {label} queued", deepEnqueue, "tasks/s");
        emptyPickup.Report(report, "scale", "pickup, empty queue");
        deepPickup.Report(report, "scale", $"pickup, {label} queued");
        report.Ratio("scale-enqueue", deepEnqueue / emptyEnqueue, $"enqueue rate with {label} queued ÷ with an empty queue");
        report.Ratio("scale-pickup-p50", emptyPickup.Percentile(50) / deepPickup.Percentile(50), $"pickup p50 with an empty queue ÷ with {label} queued");
    }

    /// <summary>Queued demo tasks that each run for ten minutes: the server works the queue five at a time.</summary>
    private static async Task FillAsync(Report report, string folder, int count, string label)
    {
        await using var node = TaskSystemNode.Sqlite(folder, workers: 1);
        var store = node.Host.Services.GetRequiredService<ITaskStore>();
        var clock = Stopwatch.StartNew();
        var now = DateTimeOffset.UtcNow;
        for (var done = 0; done < count; done += 5000)
        {
            var batch = Enumerable.Range(0, Math.Min(5000, count - done))
                .Select(_ => new NewTask("demo", "default", 0, """{"durationMs": 600000}""", 3, TimeSpan.FromHours(1), now, now))
                .ToList();
            await store.TasksInsertAsync(new TasksInsertParams(batch), CancellationToken.None);
        }

        report.Add("scale", $"fill {label} tasks in batches of 5,000", count / clock.Elapsed.TotalSeconds, "tasks/s");
    }

    private static async Task<(TimeSpan StartUp, double PeakRssMiB)> ServerFiguresAsync(string folder)
    {
        // Its five running ten-minute tasks are handed back at once when it stops (the default waits ten seconds for
        // them to finish); start-up and memory, what is measured, do not depend on it.
        var server = await ServerProcess.StartReadyAsync(
            "--TaskSystem:ConnectionString", $"Data Source={Path.Combine(folder, "tasks.db")}",
            "--TaskSystem:ShutdownTimeout", "00:00:00.1");
        await using (server)
        {
            // Some ordinary traffic: list the queue, the running tasks, one task.
            for (var i = 0; i < 20; i++)
            {
                (await server.Client.GetAsync(new Uri("/tasks?state=queued&limit=100", UriKind.Relative))).Dispose();
                (await server.Client.GetAsync(new Uri("/tasks", UriKind.Relative))).Dispose();
                (await server.Client.GetAsync(new Uri("/tasks/1", UriKind.Relative))).Dispose();
            }

            var rss = Machine.PeakRssMiB(server.ProcessId);
            await server.StopAsync();
            return (server.StartUp, rss);
        }
    }

    /// <summary>A node that handles other types than the queued ones: does the backlog cost its enqueue and pickup anything?</summary>
    private static async Task<(double Enqueue, Latencies Pickup)> NodeFiguresAsync(string folder, TimeSpan duration, int samples)
    {
        await using var node = TaskSystemNode.Sqlite(folder, workers: 5);
        await node.StartAsync();
        var enqueue = await EnqueueWorkload.MeasureAsync(duration, 16, () => node.Manager.EnqueueAsync(new TaskRequest("probe")));
        await node.WaitDrainedProbesAsync();
        return (enqueue, await PickupWorkload.MeasureAsync(node, samples));
    }
}
