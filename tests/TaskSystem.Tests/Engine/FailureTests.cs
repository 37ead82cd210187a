using Microsoft.Extensions.Time.Testing;
using TaskSystem.Engine;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Engine;

/// <summary>Timeouts and backoff, on a fake clock (retries on every store are in <see cref="EngineContractTests"/>).</summary>
public sealed class FailureTests
{
    [Fact]
    public async Task Timeout_CancelsTheHandler_AndCountsAsAFailedAttempt()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = false;
        await using var host = await EngineHost.StartAsync(
            b => b.AddHandler("t", async (_, ct) =>
            {
                started.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                    cancelled = true;
                    throw;
                }
            }),
            time: time);

        var task = await host.EnqueueAsync("t", change: r => r with { Timeout = TimeSpan.FromSeconds(5), MaxAttempts = 1 });
        await started.Task.WaitAsync(TimeSpan.FromSeconds(5));
        await time.AdvanceUntilAsync(TimeSpan.FromSeconds(1), () => Volatile.Read(ref cancelled), "the timeout to cancel the handler");

        var failed = await host.WaitForStateAsync(task.Id, TaskState.Failed);
        Assert.True(cancelled);
        Assert.StartsWith("timed out after 00:00:05", failed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TimedOutHandler_IgnoringCancellation_FreesItsSlot_ButIsRetriedOnlyAfterItReturns()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = 0;
        var overlapped = false;
        await using var host = await EngineHost.StartAsync(
            b => b.AddHandler("stubborn", async (ctx, _) =>
            {
                overlapped |= Interlocked.Increment(ref running) > 1;
                started.TrySetResult();
                if (ctx.Attempt == 1)
                {
                    await release.Task;
                }

                Interlocked.Decrement(ref running);
            }).AddHandler("other", (_, _) => Task.CompletedTask),
            o => { o.Concurrency = 1; o.StopGracePeriod = TimeSpan.FromSeconds(5); },
            time);

        var stubborn = await host.EnqueueAsync("stubborn", change: r => r with { Timeout = TimeSpan.FromSeconds(5), MaxAttempts = 2 });
        await started.Task.WaitAsync(TimeSpan.FromSeconds(5));
        await time.AdvanceUntilAsync(
            TimeSpan.FromSeconds(1),
            () => host.Host.Services.GetService(typeof(RunningTasks)) is RunningTasks r && r.TryGet(stubborn.Id, out var e) && e!.Token.IsCancellationRequested,
            "the timeout to cancel the handler");
        time.Advance(TimeSpan.FromSeconds(5));

        // The slot is free: another task runs while the abandoned handler still holds its task.
        var other = await host.EnqueueAsync("other");
        await host.WaitForStateAsync(other.Id, TaskState.Succeeded);
        Assert.Equal(TaskState.Running, (await host.Manager.GetAsync(stubborn.Id))!.State);

        release.SetResult();
        var retried = await host.WaitForStateAsync(stubborn.Id, TaskState.Scheduled);
        time.Advance(TimeSpan.FromSeconds(10));
        var done = await host.WaitForStateAsync(stubborn.Id, TaskState.Succeeded);

        Assert.StartsWith("timed out", retried.Error, StringComparison.Ordinal);
        Assert.Equal(2, done.Attempt);
        Assert.False(overlapped);
    }

    [Fact]
    public async Task SynchronousHandler_CheckingItsToken_IsTimedOut()
    {
        await using var host = await EngineHost.StartAsync(b => b.AddHandler("cpu", (_, ct) =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(10))
            {
                ct.ThrowIfCancellationRequested();
                Thread.SpinWait(1000);
            }

            return Task.CompletedTask;
        }));

        var task = await host.EnqueueAsync("cpu", change: r => r with { Timeout = TimeSpan.FromMilliseconds(100), MaxAttempts = 1 });

        var failed = await host.WaitForStateAsync(task.Id, TaskState.Failed, TimeSpan.FromSeconds(8));
        Assert.StartsWith("timed out", failed.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, 1.0)]
    [InlineData(2, 2.0)]
    [InlineData(5, 16.0)]
    public void RetryBackoff_DoublesPerAttempt_WithinHalfToOneAndAHalfTimes(int attempt, double expectedSeconds)
    {
        var random = new Random(7);
        var delays = Enumerable.Range(0, 200).Select(_ => RetryBackoff.Delay(attempt, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1), random).TotalSeconds).ToList();

        Assert.All(delays, d => Assert.InRange(d, expectedSeconds * 0.5, expectedSeconds * 1.5));
        Assert.True(delays.Max() - delays.Min() > expectedSeconds * 0.5, "jitter spreads the delays");
    }

    [Fact]
    public void RetryBackoff_NeverExceedsTheCap()
    {
        var random = new Random(1);
        var delays = Enumerable.Range(1, 80).Select(attempt => RetryBackoff.Delay(attempt, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), random));

        Assert.All(delays, d => Assert.InRange(d, TimeSpan.FromMilliseconds(500), TimeSpan.FromMinutes(1)));
    }
}
