using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using OpenTelemetry;
using OpenTelemetry.Trace;
using TaskSystem.Diagnostics;
using TaskSystem.Maintenance;
using TaskSystem.Storage;
using TaskSystem.Storage.Sqlite;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Diagnostics;

/// <summary>
/// Every store call is timed and traced in one place, whatever the store; every maintenance run is counted and
/// timed. Measurements are read through the host's own meter factory and spans by trace id, so parallel tests do not mix.
/// </summary>
public sealed class StoreTelemetryTests
{
    private static readonly ActivitySource Caller = new("TaskSystem.Tests.StoreCaller");

    [Fact]
    public async Task StoreCalls_AreTimedPerOperation_WithTheirOutcome()
    {
        await using var host = await EngineHost.StartAsync(b => b.AddHandler("t", (_, _) => Task.CompletedTask));
        using var durations = new MetricCollector<double>(host.Host.Services.GetRequiredService<IMeterFactory>(), TaskSystemDiagnostics.MeterName, "tasksystem.store.duration");

        var task = await host.EnqueueAsync("t");
        await host.WaitForStateAsync(task.Id, TaskState.Succeeded);

        // A call is measured when it returns, just after its write is visible: the completion's can come a moment
        // after the task reads as succeeded.
        string[] operations = ["tasks.insert", "tasks.claim", "tasks.complete", "task.get"];
        var measured = await Eventually.Until(
            () => Task.FromResult(durations.GetMeasurementSnapshot()),
            snapshot => operations.All(operation => snapshot.Any(m => Equals(m.Tags[StoreTelemetry.OperationTag], operation))),
            because: "every operation to be measured");
        foreach (var operation in operations)
        {
            var calls = measured.Where(m => Equals(m.Tags[StoreTelemetry.OperationTag], operation)).ToList();
            Assert.True(calls.Count > 0, $"no {operation} was measured");
            Assert.All(calls, m => Assert.Equal("ok", m.Tags[StoreTelemetry.OutcomeTag]));
            Assert.All(calls, m => Assert.InRange(m.Value, 0, 10));
        }

        Assert.True(host.Store is InstrumentedTaskStore { Inner: SqliteTaskStore }, $"the store is a {host.Store.GetType().Name}");
    }

    [Fact]
    public async Task StoreCall_ThatFails_IsMeasuredAsAnError_WithItsType_AndItsSpanSaysWhy()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meterFactory = services.GetRequiredService<IMeterFactory>();
        using var durations = new MetricCollector<double>(meterFactory, TaskSystemDiagnostics.MeterName, "tasksystem.store.duration");
        var spans = new LockedCollection<Activity>();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource(TaskSystemDiagnostics.StoreActivitySourceName, Caller.Name).AddInMemoryExporter(spans).Build();

        // A real store whose folder cannot exist: a file stands where its directory should be.
        using var directory = new TempDirectory();
        await File.WriteAllTextAsync(directory.File("not-a-folder"), "");
        await using var store = InstrumentedTaskStore.Wrap(
            new SqliteTaskStore($"Data Source={directory.File("not-a-folder")}/tasks.db", NullLogger<SqliteTaskStore>.Instance),
            new StoreTelemetry(meterFactory, TimeProvider.System));
        ActivityTraceId trace;
        using (var parent = Caller.StartActivity("caller")!)
        {
            trace = parent.TraceId;
            await Assert.ThrowsAnyAsync<IOException>(() => store.MigrateAsync(CancellationToken.None));
        }

        var failure = Assert.Single(durations.GetMeasurementSnapshot());
        Assert.Equal(("migrate", "error"), (failure.Tags[StoreTelemetry.OperationTag], failure.Tags[StoreTelemetry.OutcomeTag]));
        Assert.EndsWith("Exception", (string)failure.Tags[StoreTelemetry.ErrorTypeTag]!, StringComparison.Ordinal);
        var span = Assert.Single(spans.Snapshot(), s => s.TraceId == trace && s.Source.Name == TaskSystemDiagnostics.StoreActivitySourceName);
        Assert.Equal(("store migrate", ActivityKind.Client, ActivityStatusCode.Error, "error"), (span.DisplayName, span.Kind, span.Status, span.GetTagItem(StoreTelemetry.OutcomeTag)));
    }

    [Fact]
    public async Task StoreSpans_NestUnderTheCallersSpan_WithTheOperationAndTheRowCount()
    {
        var spans = new LockedCollection<Activity>();
        using var tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(TaskSystemDiagnostics.StoreActivitySourceName, TaskSystemDiagnostics.ActivitySourceName, Caller.Name).AddInMemoryExporter(spans).Build();
        await using var host = await EngineHost.StartAsync(b => b.AddHandler("t", (_, _) => Task.CompletedTask), o => o.PollInterval = TimeSpan.FromHours(1));

        ActivityContext request;
        using (var parent = Caller.StartActivity("POST /tasks", ActivityKind.Server)!)
        {
            request = parent.Context;
            await host.Manager.EnqueueManyAsync([new TaskRequest("t"), new TaskRequest("t")]);
            Assert.Same(parent, Activity.Current);
        }

        var trace = spans.Snapshot().Where(s => s.TraceId == request.TraceId).ToList();
        var enqueue = Assert.Single(trace, s => s.DisplayName == "enqueue");
        var insert = Assert.Single(trace, s => s.DisplayName == "store tasks.insert");
        Assert.Equal((request.SpanId, enqueue.SpanId), (enqueue.ParentSpanId, insert.ParentSpanId));
        Assert.Equal(("tasks.insert", "ok", 2), (insert.GetTagItem(StoreTelemetry.OperationTag), insert.GetTagItem(StoreTelemetry.OutcomeTag), insert.GetTagItem("task.count")));
        Assert.Equal(ActivityStatusCode.Unset, insert.Status);
    }

    [Fact]
    public async Task MaintenanceRuns_AreCountedAndTimed_ByLoopAndOutcome()
    {
        await using var host = await EngineHost.StartAsync(b => b.AddHandler("t", (_, _) => Task.CompletedTask), o => o.StopPollInterval = TimeSpan.FromMilliseconds(20));
        var meterFactory = host.Host.Services.GetRequiredService<IMeterFactory>();
        using var runs = new MetricCollector<long>(meterFactory, TaskSystemDiagnostics.MeterName, "tasksystem.maintenance.runs");
        using var durations = new MetricCollector<double>(meterFactory, TaskSystemDiagnostics.MeterName, "tasksystem.maintenance.duration");
        var metrics = host.Host.Services.GetRequiredService<TaskMetrics>();
        using var failing = new MaintenanceLoop("always failing", TimeSpan.FromMilliseconds(20), _ => throw new InvalidOperationException("boom"), metrics, TimeProvider.System, NullLogger.Instance);

        // A run is counted, then timed: wait for both (on a busy machine a snapshot can fall between the two, and the
        // first runs may come before the duration collector exists).
        failing.Start();
        await Eventually.Until(() => Count(runs, "stop_poller", "ok") >= 2 && Count(runs, "always_failing", "error") >= 2 && Timed(durations, "stop_poller").Count > 0,
            because: "the stop poller and the failing loop to run twice each, and a stop poller run to be timed");
        await failing.StopAsync();

        Assert.Equal(0, Count(runs, "always_failing", "ok"));
        var timed = Timed(durations, "stop_poller");
        Assert.NotEmpty(timed);
        Assert.All(timed, m => Assert.InRange(m.Value, 0, 10));
    }

    private static List<CollectedMeasurement<double>> Timed(MetricCollector<double> durations, string name) =>
        [.. durations.GetMeasurementSnapshot().Where(m => Equals(m.Tags[TaskMetrics.MaintenanceName], name))];

    private static long Count(MetricCollector<long> runs, string name, string outcome) =>
        runs.GetMeasurementSnapshot()
            .Where(m => Equals(m.Tags[TaskMetrics.MaintenanceName], name) && Equals(m.Tags[TaskMetrics.MaintenanceOutcome], outcome))
            .Sum(m => m.Value);
}
