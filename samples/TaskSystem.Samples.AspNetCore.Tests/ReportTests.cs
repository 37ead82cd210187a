using Microsoft.Extensions.Time.Testing;
using TaskSystem.Samples.AspNetCore;
using TaskSystem.Samples.AspNetCore.Reports;
using TaskSystem.Testing;

namespace TaskSystem.Samples.AspNetCore.Tests;

/// <summary>How an app tests its TaskSystem code: the handler run inline, the endpoint against the in-memory manager.</summary>
public sealed class ReportTests
{
    [Fact]
    public async Task Endpoint_EnqueuesAReportTask_WithTheRequestAsPayload()
    {
        var tasks = new FakeTaskManager(SampleJson.Default);

        var answer = await ReportsApi.RequestReportAsync(new ReportRequest("acme", 2026, 11), tasks, CancellationToken.None);

        var task = Assert.Single(tasks.TasksOfType(GenerateReportHandler.Type));
        Assert.Equal(task.Id, answer.Value!.TaskId);
        Assert.Equal(new ReportRequest("acme", 2026, 11), Assert.Single(tasks.PayloadsOf<ReportRequest>(GenerateReportHandler.Type)));
    }

    [Fact]
    public async Task FakeManager_KeepsIdempotencyKeys_AsTheStoreDoes()
    {
        var tasks = new FakeTaskManager(SampleJson.Default);
        var request = new TaskRequest(GenerateReportHandler.Type) { Key = "acme-2026-11" };

        var first = await tasks.EnqueueAsync(request);
        var again = await tasks.EnqueueAsync(request);

        Assert.Equal((first.Id, false, true), (again.Id, first.Existing, again.Existing));
        Assert.Single(tasks.Tasks);
    }

    [Fact]
    public async Task Handler_OnItsLastAttempt_ReturnsTheReport()
    {
        var handler = new GenerateReportHandler(new ImmediateTime());
        var attempt = new TestAttempt { Attempt = 2, MaxAttempts = 2, JsonTypeInfoResolver = SampleJson.Default };

        var result = await attempt.RunAsync(handler, new ReportRequest("acme", 2026, 1));

        Assert.Equal(new ReportResult("acme", "2026-01", 42), result);
    }

    [Fact]
    public async Task Handler_ReportsItsProgress_FromStartToDone()
    {
        var attempt = new TestAttempt { JsonTypeInfoResolver = SampleJson.Default };

        await attempt.RunAsync(new GenerateReportHandler(new ImmediateTime()), new ReportRequest("acme", 2026, 3));

        Assert.Equal([new TestProgressReport(0, "querying"), new TestProgressReport(100, "done")], attempt.Progress);
    }

    [Fact]
    public async Task Handler_BadMonth_FailsTheAttempt()
    {
        var handler = new GenerateReportHandler(new ImmediateTime());

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => new TestAttempt().RunAsync(handler, new ReportRequest("acme", 2026, 13)));
    }

    [Fact]
    public async Task Handler_Cancelled_StopsAtOnce()
    {
        var handler = new GenerateReportHandler(new FakeTimeProvider());
        using var stop = new CancellationTokenSource();

        var running = new TestAttempt().RunAsync(handler, new ReportRequest("acme", 2026, 5), stop.Token);
        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
    }

    /// <summary>A clock whose delays are over at once: the handler's simulated work takes no time in a test.</summary>
    private sealed class ImmediateTime : TimeProvider
    {
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            base.CreateTimer(callback, state, TimeSpan.Zero, period);
    }
}
