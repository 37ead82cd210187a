using OpenTelemetry;
using OpenTelemetry.Metrics;
using TaskSystem.Diagnostics;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Diagnostics;

/// <summary>
/// The metrics as an OpenTelemetry exporter sees them. A MeterProvider listens to every TaskSystem meter of the
/// process, and a host disposed by a parallel test would end the shared metric streams: these tests run alone.
/// </summary>
[Collection(ProcessWideTelemetry.Name)]
public sealed class OpenTelemetryExportTests
{
    [Fact]
    public async Task Counters_ThroughAnOpenTelemetryExporter_CountEveryOutcomeByTypeAndQueue()
    {
        var queue = UniqueQueue();
        var exported = new LockedCollection<MetricSnapshot>();
        using var meters = Sdk.CreateMeterProviderBuilder().AddMeter(TaskSystemDiagnostics.MeterName).AddInMemoryExporter(exported).Build();
        await using var host = await EngineHost.StartAsync(b => b
            .AddHandler("ok", (_, _) => Task.CompletedTask)
            .AddHandler("flaky", (ctx, _) => ctx.Attempt == 1 ? Task.FromException(new TaskFailedException("first")) : Task.CompletedTask)
            .AddHandler("broken", (_, _) => Task.FromException(new TaskFailedException("always"))));

        var ids = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await host.EnqueueAsync("ok", change: r => r with { Queue = queue })).Id);
        }

        ids.Add((await host.EnqueueAsync("flaky", change: r => r with { Queue = queue })).Id);
        ids.Add((await host.EnqueueAsync("broken", change: r => r with { Queue = queue, MaxAttempts = 2 })).Id);
        var later = await host.EnqueueAsync("ok", change: r => r with { Queue = queue, RunAt = DateTimeOffset.UtcNow.AddHours(1) });
        await host.Manager.StopAsync(later.Id);
        foreach (var id in ids)
        {
            await Eventually.Until(async () => (await host.Manager.GetAsync(id))!.State, s => s is TaskState.Succeeded or TaskState.Failed);
        }

        // Outcomes are counted once written: wait for the last one to be visible to the exporter.
        await Eventually.Until(() => Flush(meters, exported, "tasksystem.tasks.failed", queue, "broken") == 1);
        Assert.Equal(4, Sum(exported, "tasksystem.tasks.enqueued", queue, "ok"));
        Assert.Equal(1, Sum(exported, "tasksystem.tasks.enqueued", queue, "flaky"));
        Assert.Equal(3, Sum(exported, "tasksystem.tasks.started", queue, "ok"));
        Assert.Equal(2, Sum(exported, "tasksystem.tasks.started", queue, "flaky"));
        Assert.Equal(2, Sum(exported, "tasksystem.tasks.started", queue, "broken"));
        Assert.Equal(3, Sum(exported, "tasksystem.tasks.succeeded", queue, "ok"));
        Assert.Equal(1, Sum(exported, "tasksystem.tasks.succeeded", queue, "flaky"));
        Assert.Equal(1, Sum(exported, "tasksystem.tasks.retried", queue, "flaky"));
        Assert.Equal(1, Sum(exported, "tasksystem.tasks.retried", queue, "broken"));
        Assert.Equal(1, Sum(exported, "tasksystem.tasks.failed", queue, "broken"));
        Assert.Equal(1, Sum(exported, "tasksystem.tasks.cancelled", queue, "ok"));
        Assert.Equal(0, Sum(exported, "tasksystem.tasks.failed", queue, "flaky"));
    }

    private static string UniqueQueue() => "q-" + Guid.NewGuid().ToString("N")[..12];

    private static long Flush(MeterProvider meters, LockedCollection<MetricSnapshot> exported, string name, string queue, string type)
    {
        exported.Clear();
        meters.ForceFlush();
        return Sum(exported, name, queue, type);
    }

    /// <summary>The cumulative value of a counter for one queue and type, from the latest export.</summary>
    private static long Sum(LockedCollection<MetricSnapshot> exported, string name, string queue, string type)
    {
        var metric = exported.Snapshot().LastOrDefault(m => m.Name == name);
        if (metric is null)
        {
            return 0;
        }

        long sum = 0;
        foreach (var point in metric.MetricPoints)
        {
            string? pointQueue = null, pointType = null;
            foreach (var tag in point.Tags)
            {
                if (tag.Key == "task.queue")
                {
                    pointQueue = tag.Value as string;
                }
                else if (tag.Key == "task.type")
                {
                    pointType = tag.Value as string;
                }
            }

            if (pointQueue == queue && pointType == type)
            {
                sum += point.GetSumLong();
            }
        }

        return sum;
    }
}

/// <summary>Tests that attach process-wide listeners run after the parallel ones, one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideTelemetry
{
    public const string Name = "Process-wide telemetry";
}
