using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Trace;
using TaskSystem.Diagnostics;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Diagnostics;

/// <summary>
/// The enqueue and the run of a task are one trace, even when another host runs it: the trace context is stored
/// with the task. Spans are filtered by trace id, since listeners see every host of the test process.
/// </summary>
public sealed class TracingTests
{
    private static readonly ActivitySource Caller = new("TaskSystem.Tests.Caller");

    [Fact]
    public async Task RunSpansOnAnotherHost_AreChildrenOfTheEnqueueSpan_OnePerAttempt()
    {
        using var directory = new TempDirectory();
        Action<TaskSystemBuilder> handlers = b => b.AddHandler("flaky", (ctx, _) =>
            ctx.Attempt == 1 ? Task.FromException(new TaskFailedException("first attempt fails")) : Task.CompletedTask);

        // Host A only enqueues (its engine never starts), inside a request span, then goes away.
        var spansOfA = new LockedCollection<Activity>();
        ActivityContext request;
        long id;
        await using (var a = EngineHost.Create(handlers, directory: directory))
        {
            using var tracingA = Sdk.CreateTracerProviderBuilder()
                .AddSource(TaskSystemDiagnostics.ActivitySourceName, Caller.Name).AddInMemoryExporter(spansOfA).Build();
            using (var requestSpan = Caller.StartActivity("POST /tasks", ActivityKind.Server)!)
            {
                request = requestSpan.Context;
                id = (await a.EnqueueAsync("flaky")).Id;
            }

            tracingA.ForceFlush();
        }

        // Host B, a separate host with its own tracer, opens the same database and runs the task.
        var spansOfB = new LockedCollection<Activity>();
        using (var tracingB = Sdk.CreateTracerProviderBuilder().AddSource(TaskSystemDiagnostics.ActivitySourceName).AddInMemoryExporter(spansOfB).Build())
        {
            await using var b = await EngineHost.StartAsync(handlers, directory: directory);
            await b.WaitForStateAsync(id, TaskState.Succeeded);
            await Eventually.Until(() => Snapshot(spansOfB, request.TraceId).Count == 2, because: "both run spans to end");
        }

        var enqueue = Assert.Single(Snapshot(spansOfA, request.TraceId), s => s.Source.Name == TaskSystemDiagnostics.ActivitySourceName);
        Assert.Equal(("enqueue flaky", ActivityKind.Producer, request.SpanId), (enqueue.DisplayName, enqueue.Kind, enqueue.ParentSpanId));
        Assert.Equal(id, enqueue.GetTagItem("task.id"));

        var runs = Snapshot(spansOfB, request.TraceId).OrderBy(s => (int)s.GetTagItem("task.attempt")!).ToList();
        Assert.All(runs, run =>
        {
            Assert.Equal(("run flaky", ActivityKind.Consumer), (run.DisplayName, run.Kind));
            Assert.Equal(enqueue.SpanId, run.ParentSpanId);
            Assert.Equal(id, run.GetTagItem("task.id"));
            Assert.Equal("default", run.GetTagItem("task.queue"));
            Assert.Equal("test-node", run.GetTagItem("tasksystem.node"));
        });
        Assert.Equal([1, 2], runs.Select(r => (int)r.GetTagItem("task.attempt")!));
        Assert.Equal(["retry", "succeeded"], runs.Select(r => (string)r.GetTagItem("task.outcome")!));
        Assert.Equal([ActivityStatusCode.Error, ActivityStatusCode.Unset], runs.Select(r => r.Status));
        Assert.Equal("first attempt fails", runs[0].StatusDescription);
        Assert.NotEqual(runs[0].SpanId, runs[1].SpanId);
    }

    [Fact]
    public async Task TaskEnqueuedOutsideAnyTrace_RunsInANewTrace_StartedByItsEnqueueSpan()
    {
        // A type of its own: other hosts of the test process enqueue tasks with the same ids.
        var type = "trace-" + Guid.NewGuid().ToString("N")[..12];
        var spans = new LockedCollection<Activity>();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource(TaskSystemDiagnostics.ActivitySourceName).AddInMemoryExporter(spans).Build();
        await using var host = await EngineHost.StartAsync(b => b.AddHandler(type, (_, _) => Task.CompletedTask));

        var task = await host.EnqueueAsync(type);
        await host.WaitForStateAsync(task.Id, TaskState.Succeeded);

        var enqueue = await Eventually.Until(
            () => Task.FromResult(Snapshot(spans, default).SingleOrDefault(s => s.DisplayName == "enqueue " + type)),
            s => s is not null);
        Assert.Equal((default, task.Id), (enqueue!.ParentSpanId, enqueue.GetTagItem("task.id")));
        var run = await Eventually.Until(
            () => Task.FromResult(Snapshot(spans, default).SingleOrDefault(s => s.DisplayName == "run " + type)),
            s => s is not null);
        Assert.Equal((enqueue.TraceId, enqueue.SpanId), (run!.TraceId, run.ParentSpanId));
    }

    /// <summary>The finished spans of one trace (all of them for the default trace id).</summary>
    private static List<Activity> Snapshot(LockedCollection<Activity> spans, ActivityTraceId traceId) =>
        [.. spans.Snapshot().Where(s => traceId == default || s.TraceId == traceId)];
}
