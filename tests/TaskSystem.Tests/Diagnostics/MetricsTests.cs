using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using TaskSystem.Diagnostics;
using TaskSystem.Storage.Sqlite;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Diagnostics;

/// <summary>
/// The TaskSystem meter counts real work. These tests listen through the host's own meter factory, so parallel tests
/// do not mix; the process-wide OpenTelemetry exporter test is in <see cref="OpenTelemetryExportTests"/>.
/// </summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task Histograms_RecordOneDurationPerAttempt_WithItsOutcome_AndTheQueueWait()
    {
        var queue = UniqueQueue();
        await using var host = await EngineHost.StartAsync(b => b
            .AddHandler("flaky", async (ctx, ct) =>
            {
                await Task.Delay(30, ct);
                if (ctx.Attempt == 1)
                {
                    throw new TaskFailedException("first");
                }
            }));
        var meterFactory = host.Host.Services.GetRequiredService<IMeterFactory>();
        using var durations = new MetricCollector<double>(meterFactory, TaskSystemDiagnostics.MeterName, "tasksystem.task.duration");
        using var waits = new MetricCollector<double>(meterFactory, TaskSystemDiagnostics.MeterName, "tasksystem.task.queue_wait");

        var task = await host.EnqueueAsync("flaky", change: r => r with { Queue = queue });
        await host.WaitForStateAsync(task.Id, TaskState.Succeeded);

        var attempts = durations.GetMeasurementSnapshot().Where(m => Equals(m.Tags["task.queue"], queue)).ToList();
        Assert.Equal(["retry", "succeeded"], attempts.Select(m => (string)m.Tags["task.outcome"]!));
        Assert.All(attempts, m => Assert.InRange(m.Value, 0.02, 10));
        Assert.All(attempts, m => Assert.Equal("flaky", m.Tags["task.type"]));
        var queueWaits = waits.GetMeasurementSnapshot().Where(m => Equals(m.Tags["task.queue"], queue)).ToList();
        Assert.Equal(2, queueWaits.Count);
        Assert.All(queueWaits, m => Assert.InRange(m.Value, 0, 10));
    }

    [Fact]
    public async Task SqliteCommits_AreCountedFsyncedForEnqueues_AndUnsyncedForOutcomes()
    {
        await using var host = await EngineHost.StartAsync(b => b.AddHandler("noop", (_, _) => Task.CompletedTask));
        var meterFactory = host.Host.Services.GetRequiredService<IMeterFactory>();
        using var commits = new MetricCollector<long>(meterFactory, TaskSystemDiagnostics.MeterName, SqliteCommitMetrics.CommitsInstrument);
        using var writes = new MetricCollector<long>(meterFactory, TaskSystemDiagnostics.MeterName, SqliteCommitMetrics.WritesInstrument);

        var tasks = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => host.EnqueueAsync("noop")));
        foreach (var task in tasks)
        {
            await host.WaitForStateAsync(task.Id, TaskState.Succeeded);
        }

        // Each enqueue was answered after an fsync'd commit, which several may have shared; the outcomes written
        // after the last enqueue need no fsync.
        Assert.InRange(Sum(commits, "full"), 1, 16);
        Assert.True(Sum(writes, "full") >= 16, $"{Sum(writes, "full")} writes in fsync'd commits, for 16 enqueues");
        Assert.True(Sum(commits, "normal") >= 1, "the outcomes committed without an fsync");

        static long Sum(MetricCollector<long> collector, string synchronous) =>
            collector.GetMeasurementSnapshot().Where(m => Equals(m.Tags[SqliteCommitMetrics.SynchronousTag], synchronous)).Sum(m => m.Value);
    }

    [Fact]
    public async Task SqliteCommits_AListenerThatThrows_DoesNotFailTheCommittedWrites()
    {
        await using var host = await EngineHost.StartAsync(b => b.AddHandler("noop", (_, _) => Task.CompletedTask));
        var meterFactory = host.Host.Services.GetRequiredService<IMeterFactory>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, meterListener) =>
        {
            if (instrument.Name == SqliteCommitMetrics.CommitsInstrument && ReferenceEquals(instrument.Meter.Scope, meterFactory))
            {
                meterListener.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, _, _) => throw new InvalidOperationException("a listener's bug"));
        listener.Start();

        // The commit happened: its callers must hear so (a 503 here would make a client enqueue the task twice).
        var task = await host.EnqueueAsync("noop");
        await host.WaitForStateAsync(task.Id, TaskState.Succeeded);
    }

    [Fact]
    public async Task Gauges_ShowQueueDepthPerState_FromTheCache_AndBusyAndTotalWorkers()
    {
        var queue = UniqueQueue();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await EngineHost.StartAsync(
            b => b.AddHandler("hold", (_, ct) => release.Task.WaitAsync(ct)),
            o => { o.Concurrency = 2; o.CountsRefreshInterval = TimeSpan.FromMilliseconds(50); });
        var meterFactory = host.Host.Services.GetRequiredService<IMeterFactory>();
        using var depth = new MetricCollector<long>(meterFactory, TaskSystemDiagnostics.MeterName, "tasksystem.queue.depth");
        using var busy = new MetricCollector<int>(meterFactory, TaskSystemDiagnostics.MeterName, "tasksystem.workers.busy");
        using var total = new MetricCollector<int>(meterFactory, TaskSystemDiagnostics.MeterName, "tasksystem.workers.total");

        for (var i = 0; i < 4; i++)
        {
            await host.EnqueueAsync("hold", change: r => r with { Queue = queue });
        }

        await host.EnqueueAsync("hold", change: r => r with { Queue = queue, RunAt = DateTimeOffset.UtcNow.AddHours(1) });

        try
        {
            var expected = new Dictionary<string, long> { ["awaiting"] = 0, ["queued"] = 2, ["scheduled"] = 1, ["running"] = 2 };
            await Eventually.Until(() => DepthOf(depth, queue).SequenceEqual(expected.OrderBy(p => p.Key)), because: "the depth gauge to show 2 queued, 1 scheduled, 2 running");
            busy.RecordObservableInstruments();
            total.RecordObservableInstruments();
            Assert.Equal(2, busy.LastMeasurement!.Value);
            Assert.Equal(2, total.LastMeasurement!.Value);
            Assert.Equal("test-node", total.LastMeasurement.Tags["tasksystem.node"]);
        }
        finally
        {
            release.TrySetResult();
        }

        await Eventually.Until(() => DepthOf(depth, queue).SequenceEqual(
            new Dictionary<string, long> { ["awaiting"] = 0, ["queued"] = 0, ["running"] = 0, ["scheduled"] = 1 }.OrderBy(p => p.Key)), because: "the queue to drain in the gauge");
    }

    [Fact]
    public async Task QueueCounts_AreRefreshedOnlyWhenSomeoneListens_OrACapIsSet()
    {
        var queue = UniqueQueue();
        await using var host = await EngineHost.StartAsync(b => b.AddHandler("t", (_, _) => Task.CompletedTask));
        var counts = host.Host.Services.GetRequiredService<TaskSystem.Engine.QueueCounts>();
        var housekeeping = host.Host.Services.GetRequiredService<TaskSystem.Maintenance.Housekeeping>();
        await host.EnqueueAsync("t", change: r => r with { Queue = queue, RunAt = DateTimeOffset.UtcNow.AddHours(1) });

        await housekeeping.RefreshCountsAsync(CancellationToken.None);
        var unobserved = counts.Observe().Any(c => c.Queue == queue);
        using var depth = new MetricCollector<long>(host.Host.Services.GetRequiredService<IMeterFactory>(), TaskSystemDiagnostics.MeterName, "tasksystem.queue.depth");
        await housekeeping.RefreshCountsAsync(CancellationToken.None);

        Assert.False(unobserved);
        Assert.Contains(new TaskSystem.Storage.QueueStateCount(queue, TaskState.Scheduled, 1), counts.Observe());
    }

    private static IEnumerable<KeyValuePair<string, long>> DepthOf(MetricCollector<long> depth, string queue)
    {
        depth.Clear();
        depth.RecordObservableInstruments();
        return depth.GetMeasurementSnapshot()
            .Where(m => Equals(m.Tags["task.queue"], queue))
            .Select(m => KeyValuePair.Create((string)m.Tags["task.state"]!, m.Value))
            .OrderBy(p => p.Key)
            .ToList();
    }

    private static string UniqueQueue() => "q-" + Guid.NewGuid().ToString("N")[..12];

}
