using System.Diagnostics;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using TaskSystem.Diagnostics;
using TaskSystem.Server.Tests.Support;

namespace TaskSystem.Server.Tests.Diagnostics;

/// <summary>The HTTP request that enqueues a task and the task's attempts are one trace, continuing the caller's.</summary>
public sealed class TraceApiTests
{
    [Fact]
    public async Task PostTasks_WithACallersTraceparent_TheRequestEnqueueAndEveryAttemptAreOneTrace()
    {
        var spans = new LockedCollection<Activity>();
        await using var factory = new ApiFactory
        {
            Configure = builder => builder.ConfigureTestServices(services => services.AddOpenTelemetry().WithTracing(tracing => tracing
                .AddSource(TaskSystemDiagnostics.ActivitySourceName)
                .AddAspNetCoreInstrumentation()
                .AddInMemoryExporter(spans))),
        };
        using var client = factory.CreateClient();
        var callerTrace = ActivityTraceId.CreateRandom();
        var callerSpan = ActivitySpanId.CreateRandom();

        using var request = new HttpRequestMessage(HttpMethod.Post, "/tasks")
        {
            Content = new StringContent("""{"type": "demo", "payload": {"durationMs": 0, "failAttempts": 1}}"""),
        };
        request.Headers.Add("traceparent", $"00-{callerTrace}-{callerSpan}-01");
        using var response = await client.SendAsync(request);
        var task = await response.ReadJsonAsync();
        await client.WaitForStateAsync(task.Id(), "succeeded");

        var trace = await Eventually.Until(
            () => Task.FromResult(spans.Snapshot().Where(s => s.TraceId == callerTrace).ToList()),
            found => found.Count(s => s.DisplayName == "run demo") == 2,
            because: "the request, enqueue and both run spans");
        var http = Assert.Single(trace, s => s.Kind == ActivityKind.Server && s.GetTagItem("http.request.method") as string == "POST");
        var enqueue = Assert.Single(trace, s => s.DisplayName == "enqueue demo");
        Assert.Equal(callerSpan, http.ParentSpanId);
        Assert.Equal(http.SpanId, enqueue.ParentSpanId);
        Assert.All(trace.Where(s => s.DisplayName == "run demo"), run =>
        {
            Assert.Equal(enqueue.SpanId, run.ParentSpanId);
            Assert.Equal(task.Id(), run.GetTagItem("task.id"));
        });
    }
}
