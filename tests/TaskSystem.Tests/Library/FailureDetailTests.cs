using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using OpenTelemetry;
using OpenTelemetry.Trace;
using TaskSystem.Diagnostics;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Library;

/// <summary>Failures you can debug: the stack trace kept per attempt (bounded), the logs' levels, the span's exception event.</summary>
public sealed class FailureDetailTests
{
    [Fact]
    public async Task FailedAttempts_KeepTheirStackTraces_RetryLoggedAtWarning_FailureAtError()
    {
        await using var host = await EngineHost.StartAsync(b =>
        {
            b.Services.AddFakeLogging();
            b.AddHandler("broken", (_, _) => Explode());
        });

        var task = await host.EnqueueAsync("broken", change: r => r with { MaxAttempts = 2 });
        var failed = await host.WaitForStateAsync(task.Id, TaskState.Failed);

        Assert.Equal(2, failed.Errors.Count);
        Assert.All(failed.Errors, error =>
        {
            Assert.Equal("InvalidOperationException: the disk is on fire", error.Error);
            Assert.StartsWith("System.InvalidOperationException: the disk is on fire", error.StackTrace, StringComparison.Ordinal);
            Assert.Contains(nameof(Explode), error.StackTrace, StringComparison.Ordinal);
        });
        var logs = host.Host.Services.GetFakeLogCollector().GetSnapshot().Where(r => r.Category == "TaskSystem.Engine.TaskExecutor").ToList();
        var retry = Assert.Single(logs, r => r.Level == LogLevel.Warning);
        var final = Assert.Single(logs, r => r.Level == LogLevel.Error);
        Assert.IsType<InvalidOperationException>(retry.Exception);
        Assert.IsType<InvalidOperationException>(final.Exception);
        Assert.Contains("failed for good", final.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HugeException_IsCutTo8KiB()
    {
        await using var host = await EngineHost.StartAsync(b =>
            b.AddHandler("huge", (_, _) => Task.FromException(new InvalidOperationException(new string('é', 20_000)))));

        var task = await host.EnqueueAsync("huge", change: r => r with { MaxAttempts = 1 });
        var failed = await host.WaitForStateAsync(task.Id, TaskState.Failed);

        var stack = failed.Errors[0].StackTrace!;
        Assert.InRange(System.Text.Encoding.UTF8.GetByteCount(stack), 8 * 1024 - 16, TaskAttemptError.MaxStackTraceBytes);
        Assert.EndsWith("(cut)", stack, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailedRunSpan_RecordsTheExceptionEvent()
    {
        var type = "span-" + Guid.NewGuid().ToString("N")[..12];
        var spans = new LockedCollection<Activity>();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource(TaskSystemDiagnostics.ActivitySourceName).AddInMemoryExporter(spans).Build();
        await using var host = await EngineHost.StartAsync(b => b.AddHandler(type, (_, _) => Explode()));

        var task = await host.EnqueueAsync(type, change: r => r with { MaxAttempts = 1 });
        await host.WaitForStateAsync(task.Id, TaskState.Failed);
        var run = await Eventually.Until(
            () => Task.FromResult(spans.ToList().FirstOrDefault(s => s.DisplayName == "run " + type)), s => s is not null, because: "the run span to end");

        var exception = Assert.Single(run!.Events, e => e.Name == "exception");
        Assert.Equal(typeof(InvalidOperationException).FullName, exception.Tags.Single(t => t.Key == "exception.type").Value);
        Assert.Contains(nameof(Explode), (string)exception.Tags.Single(t => t.Key == "exception.stacktrace").Value!, StringComparison.Ordinal);
    }

    private static Task Explode() => throw new InvalidOperationException("the disk is on fire");
}
