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

    /// <summary>The wait until the known due time, capped at <paramref name="maxWait"/>; zero once it has passed.</summary>
    public TimeSpan WaitFrom(TimeSpan maxWait, TimeProvider time)
    {
        var due = Volatile.Read(ref _dueTicks);
        if (due == long.MaxValue)
        {
            return maxWait;
        }

        var untilDue = TimeSpan.FromTicks(due - time.GetUtcNow().UtcTicks);
        if (untilDue <= TimeSpan.Zero)
        {
            Interlocked.CompareExchange(ref _dueTicks, long.MaxValue, due);
            return TimeSpan.Zero;
        }

        return untilDue < maxWait ? untilDue : maxWait;
    }
}
