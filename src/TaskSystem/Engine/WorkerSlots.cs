namespace TaskSystem.Engine;

/// <summary>The worker pool's capacity: the dispatcher never claims more tasks than there are free slots.</summary>
internal sealed class WorkerSlots(int capacity, WakeSignal freed)
{
    private int _busy;

    public int Capacity => capacity;

    public int Busy => Volatile.Read(ref _busy);

    public int Free => capacity - Busy;

    /// <summary>Takes one slot if one is free: the dispatcher and the workers handing theirs over never overbook.</summary>
    public bool TryTakeOne()
    {
        var busy = Volatile.Read(ref _busy);
        while (busy < capacity)
        {
            var seen = Interlocked.CompareExchange(ref _busy, busy + 1, busy);
            if (seen == busy)
            {
                return true;
            }

            busy = seen;
        }

        return false;
    }

    /// <summary>Frees one slot and wakes the dispatcher to fill it (unless the caller wakes it right after anyway).</summary>
    public void Release(bool wake = true)
    {
        Interlocked.Decrement(ref _busy);
        if (wake)
        {
            freed.Set();
        }
    }

    /// <summary>The slots in use, for heartbeats and metrics.</summary>
    public override string ToString() => $"{Busy}/{Capacity}";
}
