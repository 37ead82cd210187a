namespace TaskSystem.Engine;

/// <summary>
/// The earliest time something is known to come due, kept without a lock for the signals that wake waiters: a
/// waiter sleeps no later than this time, and a due time that has passed is forgotten by the next waiter.
/// </summary>
internal sealed class EarliestDue
{
    private long _dueTicks = long.MaxValue;

    /// <summary>Records <paramref name="dueAt"/>; true when it is earlier than the known one (waiters must recompute).</summary>
    public bool MoveEarlier(DateTimeOffset dueAt)
    {
        var ticks = dueAt.UtcTicks;
        var current = Volatile.Read(ref _dueTicks);
        while (ticks < current)
        {
            var seen = Interlocked.CompareExchange(ref _dueTicks, ticks, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    /// <summary>
    /// A token cancelled at the known due time, or after <paramref name="maxWait"/>; null when that time has passed.
    /// The clock is read again once the timer is armed: a clock moved in between (a test's fake clock, advanced by
    /// another thread) would otherwise arm the timer a whole wait too late, and the waiter would sleep through the due
    /// time it was told about. A wait ended early costs one poll.
    /// </summary>
    public CancellationTokenSource? StartTimeout(TimeSpan maxWait, TimeProvider time)
    {
        var before = time.GetUtcNow();
        var timeout = WaitFrom(maxWait, before);
        if (timeout <= TimeSpan.Zero)
        {
            return null;
        }

        var source = new CancellationTokenSource(timeout, time);
        if (time.GetUtcNow() - before >= timeout)
        {
            source.Dispose();
            return null;
        }

        return source;
    }

    /// <summary>The wait from <paramref name="now"/> until the known due time, capped at <paramref name="maxWait"/>; zero once it has passed.</summary>
    private TimeSpan WaitFrom(TimeSpan maxWait, DateTimeOffset now)
    {
        var due = Volatile.Read(ref _dueTicks);
        if (due == long.MaxValue)
        {
            return maxWait;
        }

        var untilDue = TimeSpan.FromTicks(due - now.UtcTicks);
        if (untilDue <= TimeSpan.Zero)
        {
            Interlocked.CompareExchange(ref _dueTicks, long.MaxValue, due);
            return TimeSpan.Zero;
        }

        return untilDue < maxWait ? untilDue : maxWait;
    }
}
