using System.Text.Json;
using TaskSystem.Samples.AspNetCore.Reports;
using TaskSystem.Testing;

namespace TaskSystem.Samples.AspNetCore.Tests;

/// <summary>The rest of TaskSystem.Testing, as an app's tests use it: a TaskContext made for a payload, an untyped handler run inline, the fake manager's waits and refusals.</summary>
public sealed class TestingToolsTests
{
    [Fact]
    public void Context_ForAPayload_IsWhatTheHandlerWouldGetFromTheEngine()
    {
        var attempt = new TestAttempt { Id = 7, Type = GenerateReportHandler.Type, Queue = "reports", Attempt = 3, MaxAttempts = 3, JsonTypeInfoResolver = SampleJson.Default };

        var context = attempt.Context(new ReportRequest("acme", 2026, 4));

        Assert.Equal((7L, GenerateReportHandler.Type, "reports", 3, true), (context.Id, context.Type, context.Queue, context.Attempt, context.IsLastAttempt));
        Assert.Equal(new ReportRequest("acme", 2026, 4), context.GetPayload<ReportRequest>());
        Assert.Equal("acme", context.Payload.GetProperty("customer").GetString());
    }

    [Fact]
    public async Task UntypedHandler_RunsOnJson_WithTheChosenAttempt_AndItsResultIsStoredAsJson()
    {
        var result = await new TestAttempt { Attempt = 2 }.RunJsonAsync(new EchoAttempt(), """{"n": 5}""");

        Assert.Equal("""{"n":5,"attempt":2}""", JsonSerializer.Serialize(result));
    }

    [Fact]
    public async Task FakeManager_CompleteEndsAWait_AndWithAcceptedTypes_AnUnknownTypeIsRefused()
    {
        var tasks = new FakeTaskManager(SampleJson.Default);
        tasks.AcceptedTypes.Add(GenerateReportHandler.Type);
        var task = await tasks.EnqueueAsync(GenerateReportHandler.Type, new ReportRequest("acme", 2026, 6));

        var waiting = tasks.WaitAsync(task.Id);
        var stillWaiting = !waiting.IsCompleted;
        tasks.Complete(task.Id);
        var done = await waiting;

        Assert.True(stillWaiting, "the wait ended before the test completed the task");
        Assert.Equal(TaskState.Succeeded, done!.State);
        var refused = await Assert.ThrowsAsync<TaskValidationException>(() => tasks.EnqueueAsync("no-such-type", new ReportRequest("acme", 2026, 6)));
        Assert.Equal("type", refused.Field);
    }

    /// <summary>An untyped handler: reads its payload itself and returns what it read, with the attempt number.</summary>
    private sealed class EchoAttempt : ITaskHandler
    {
        public ValueTask<JsonElement?> HandleAsync(TaskContext context, CancellationToken cancellationToken) =>
            ValueTask.FromResult<JsonElement?>(JsonDocument.Parse($$"""{"n":{{context.Payload.GetProperty("n").GetInt32()}},"attempt":{{context.Attempt}}}""").RootElement);
    }
}
