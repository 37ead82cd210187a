namespace TaskSystem.Engine;

/// <summary>The worker pool's capacity: the dispatcher never claims more tasks than there are free slots.</summary>
internal sealed class WorkerSlots(int capacity, WakeSignal freed)
{
    private int _busy;

    public int Capacity => capacity;

    public int Busy => Volatile.Read(ref _busy);

    public int Free => capacity - Busy;

    public void Take(int count) => Interlocked.Add(ref _busy, count);

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
