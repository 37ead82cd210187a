using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using TaskSystem.Benchmarks.Subjects;
using TaskSystem.Benchmarks.Support;
using TaskSystem.Engine;

namespace TaskSystem.Benchmarks.Workloads;

/// <summary>
/// Bulk actions by filter over many matching tasks (100k; 10k quick) on SQLite and PostgreSQL: how long a stop and a
/// delete take, and what they do to single enqueues made at the same time (the batches must let them through).
/// </summary>
internal sealed class BulkWorkload : IWorkload
{
    public string Name => "bulk";

    public string Description => "bulk stop and delete by filter over many tasks, and enqueue latency meanwhile";

    public async Task RunAsync(BenchContext context)
    {
        var count = context.Options.Size(100_000, 2_000);
        await RunOnAsync(context, TaskSystemNode.Sqlite(context.NewFolder(), workers: 4), "SQLite", "sqlite", count);
        if (await context.PostgresAsync() is not null)
        {
            await RunOnAsync(context, TaskSystemNode.Postgres(PostgresServer.NewDatabase(), 4, "bench", b => b.UsePostgreSql()), "PostgreSQL", "postgres", count);
        }
    }

    private static async Task RunOnAsync(BenchContext context, TaskSystemNode created, string store, string key, int count)
    {
        await using var node = created;
        await node.StartAsync();
        var later = DateTimeOffset.UtcNow.AddDays(1);
        for (var done = 0; done < count; done += 1000)
        {
            await node.Manager.EnqueueManyAsync(Enumerable.Range(0, Math.Min(1000, count - done)).Select(_ => new TaskRequest("noop") { Queue = "bulk", RunAt = later }));
        }

        var bulk = node.Host.Services.GetRequiredService<TaskBulkActions>();
        var idle = await EnqueueLatenciesAsync(node, Task.Delay(context.Options.Duration(2, 0.3)));
        idle.Report(context.Report, "bulk", $"{store}: single enqueue, store otherwise idle");

        var watch = Stopwatch.StartNew();
        var stopping = bulk.ApplyAsync(BulkAction.Stop, new BulkFilter([TaskState.Scheduled], "bulk", null, null), CancellationToken.None);
        var during = await EnqueueLatenciesAsync(node, stopping);
        var stopped = await stopping;
        var stopTime = watch.Elapsed;
        context.Report.Add("bulk", $"{store}: bulk stop by filter, {count} scheduled tasks", stopTime.TotalSeconds, "s");
        context.Report.Add("bulk", $"{store}: bulk stop throughput", stopped.Affected / stopTime.TotalSeconds, "tasks/s");
        during.Report(context.Report, "bulk", $"{store}: single enqueue during the bulk stop");

        watch.Restart();
        var deleting = bulk.ApplyAsync(BulkAction.Delete, new BulkFilter(null, "bulk", null, null), CancellationToken.None);
        var duringDelete = await EnqueueLatenciesAsync(node, deleting);
        var deleted = await deleting;
        context.Report.Add("bulk", $"{store}: bulk delete by filter, {count} cancelled tasks", watch.Elapsed.TotalSeconds, "s");
        context.Report.Add("bulk", $"{store}: bulk delete throughput", deleted.Affected / watch.Elapsed.TotalSeconds, "tasks/s");
        duringDelete.Report(context.Report, "bulk", $"{store}: single enqueue during the bulk delete");
        if (idle.Percentile(99) > 0)
        {
            context.Report.Ratio($"bulk-stop-enqueue-p99-{key}", during.Percentile(99) / idle.Percentile(99), $"{store}: enqueue p99 during a bulk stop ÷ idle");
        }
    }

    /// <summary>Enqueues one task at a time until <paramref name="until"/> ends, timing each.</summary>
    private static async Task<Latencies> EnqueueLatenciesAsync(TaskSystemNode node, Task until)
    {
        var latencies = new Latencies();
        while (!until.IsCompleted)
        {
            var start = Stopwatch.GetTimestamp();
            await node.Manager.EnqueueAsync(new TaskRequest("noop") { Queue = "other", RunAt = DateTimeOffset.UtcNow.AddDays(1) });
            latencies.Add(Stopwatch.GetElapsedTime(start));
        }

        return latencies;
    }
}
