using Microsoft.Extensions.Time.Testing;
using TaskSystem.Engine;
using TaskSystem.ExternalWorkers;

namespace TaskSystem.Tests.Engine;

/// <summary>
/// A waiter told of a due time wakes at it even when the clock moves between the waiter reading it and arming its
/// timer: the fake clock of a test that advances it from another thread, as the retry and schedule tests do.
/// </summary>
public sealed class WakeAtDueTimeTests
{
    private static readonly TimeSpan UntilDue = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task DispatcherWake_ClockAdvancedToTheDueTimeBeforeItsTimerIsArmed_EndsTheWait()
    {
        var time = new ClockMovedBeforeArming(UntilDue);
        var wake = new WakeSignal();
        wake.WakeAt(time.GetUtcNow() + UntilDue);
        Assert.True(await wake.WaitAsync(TimeSpan.FromHours(1), time, CancellationToken.None), "WakeAt signals waiters to recompute");

        time.MoveOnNextArming = true;
        var woken = await wake.WaitAsync(TimeSpan.FromHours(1), time, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(woken);
        Assert.True(time.Moved, "the clock moved before the timer was armed");
    }

    [Fact]
    public async Task WorkerWake_ClockAdvancedToTheDueTimeBeforeItsTimerIsArmed_EndsTheWait()
    {
        var time = new ClockMovedBeforeArming(UntilDue);
        var signals = new WorkerSignals();
        signals.TasksReadyAt(time.GetUtcNow() + UntilDue);

        time.MoveOnNextArming = true;
        var woken = await signals.WaitTasksReadyAsync(signals.NextTasksReady(), TimeSpan.FromHours(1), time, CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(woken);
        Assert.True(time.Moved, "the clock moved before the timer was armed");
    }

    /// <summary>A fake clock that jumps once, at the worst moment: when the next timer is created.</summary>
    private sealed class ClockMovedBeforeArming(TimeSpan jump) : FakeTimeProvider
    {
        public bool MoveOnNextArming { get; set; }

        public bool Moved { get; private set; }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            if (MoveOnNextArming)
            {
                MoveOnNextArming = false;
                Advance(jump);
                Moved = true;
            }

            return base.CreateTimer(callback, state, dueTime, period);
        }
    }
}
