using Microsoft.Extensions.Time.Testing;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Engine;

/// <summary>
/// What a handler's <see cref="TaskFailedException"/> tells the engine: fail now (<c>retry: false</c>), or retry at a
/// time of its choosing (<see cref="TaskFailedException.RetryAfter"/>, bounded by RetryMaxDelay). On a fake clock that
/// never moves unless told, so the next attempt's time is exact.
/// </summary>
public abstract partial class EngineContractTests
{
    /// <summary>A fake clock on a whole millisecond: the stores keep times to the millisecond.</summary>
    private static FakeTimeProvider WholeMillisecondClock() =>
        new(DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));

    [Fact]
    public async Task TaskFailedException_WithRetryFalse_FailsTheTaskAtOnce_ThoughAttemptsRemain()
    {
        var runs = 0;
        await using var host = await StartHostAsync(
            b => b.AddHandler("t", (_, _) =>
            {
                Interlocked.Increment(ref runs);
                return Task.FromException(new TaskFailedException("the receiver refused it: 404", retry: false));
            }),
            time: WholeMillisecondClock());

        var task = await host.EnqueueAsync("t", change: r => r with { MaxAttempts = 5 });

        var failed = await host.WaitForStateAsync(task.Id, TaskState.Failed);
        Assert.Equal((1, 5, "the receiver refused it: 404", 1), (failed.Attempt, failed.MaxAttempts, failed.Error, Volatile.Read(ref runs)));
        Assert.Equal(["the receiver refused it: 404"], failed.Errors.Select(e => e.Error));
    }

    [Fact]
    public async Task TaskFailedException_WithRetryAfter_RunsTheNextAttemptThatLongAfter_NotAfterTheBackoff()
    {
        var time = WholeMillisecondClock();
        await using var host = await StartHostAsync(
            b => b.AddHandler("t", (ctx, _) => ctx.Attempt == 1
                ? Task.FromException(new TaskFailedException("busy: 503") { RetryAfter = TimeSpan.FromSeconds(90) })
                : Task.CompletedTask),
            o => { o.RetryBaseDelay = TimeSpan.FromSeconds(1); o.RetryMaxDelay = TimeSpan.FromMinutes(10); },
            time);
        var failedAt = time.GetUtcNow();

        var task = await host.EnqueueAsync("t", change: r => r with { MaxAttempts = 3 });

        var scheduled = await host.WaitForStateAsync(task.Id, TaskState.Scheduled);
        Assert.Equal(failedAt + TimeSpan.FromSeconds(90), scheduled.RunAt);
        time.Advance(TimeSpan.FromSeconds(90));
        var done = await host.WaitForStateAsync(task.Id, TaskState.Succeeded);
        Assert.Equal((2, "busy: 503"), (done.Attempt, Assert.Single(done.Errors).Error));
    }

    [Fact]
    public async Task TaskFailedException_RetryAfterBeyondRetryMaxDelay_IsCappedAtRetryMaxDelay()
    {
        var time = WholeMillisecondClock();
        await using var host = await StartHostAsync(
            b => b.AddHandler("t", (_, _) => Task.FromException(new TaskFailedException("come back tomorrow") { RetryAfter = TimeSpan.FromDays(1) })),
            o => { o.RetryBaseDelay = TimeSpan.FromSeconds(1); o.RetryMaxDelay = TimeSpan.FromMinutes(2); },
            time);
        var failedAt = time.GetUtcNow();

        var task = await host.EnqueueAsync("t", change: r => r with { MaxAttempts = 2 });

        var scheduled = await host.WaitForStateAsync(task.Id, TaskState.Scheduled);
        Assert.Equal(failedAt + TimeSpan.FromMinutes(2), scheduled.RunAt);
    }

    [Fact]
    public async Task TaskFailedException_WithRetryAfter_OnTheLastAttempt_FailsTheTask()
    {
        await using var host = await StartHostAsync(
            b => b.AddHandler("t", (_, _) => Task.FromException(new TaskFailedException("busy") { RetryAfter = TimeSpan.FromSeconds(5) })),
            time: WholeMillisecondClock());

        var task = await host.EnqueueAsync("t", change: r => r with { MaxAttempts = 1 });

        var failed = await host.WaitForStateAsync(task.Id, TaskState.Failed);
        Assert.Equal((1, "busy"), (failed.Attempt, failed.Error));
    }

    [Fact]
    public async Task TaskFailedException_WithRetryFalse_WinsOverRetryAfter()
    {
        await using var host = await StartHostAsync(
            b => b.AddHandler("t", (_, _) => Task.FromException(new TaskFailedException("gone", retry: false) { RetryAfter = TimeSpan.FromSeconds(5) })),
            time: WholeMillisecondClock());

        var task = await host.EnqueueAsync("t", change: r => r with { MaxAttempts = 3 });

        var failed = await host.WaitForStateAsync(task.Id, TaskState.Failed);
        Assert.Equal((1, "gone"), (failed.Attempt, failed.Error));
    }
}
