using TaskSystem.Storage;

namespace TaskSystem.Engine;

/// <summary>
/// The node's view of the queue, refreshed from the store every few seconds: unfinished tasks per queue and state
/// (read by the queue-depth gauge, so a scrape never queries), and the admission check of
/// <see cref="TaskSystemOptions.MaxQueued"/>: the waiting tasks counted at the last refresh, plus the tasks this node
/// committed since, plus those it is inserting. That is an upper bound as long as this node is the only one
/// enqueueing; with several nodes each sees the others' enqueues at its next refresh.
/// </summary>
internal sealed class QueueCounts(int maxQueued)
{
    private static readonly TaskState[] UnfinishedStates = [TaskState.Awaiting, TaskState.Queued, TaskState.Scheduled, TaskState.Running];
    private IReadOnlyList<QueueStateCount> _counts = [];
    private IReadOnlyList<string> _drainedQueues = [];
    private long _waiting;
    private long _committedSinceRefresh;
    private long _inFlight;

    /// <summary>True when <see cref="TaskSystemOptions.MaxQueued"/> is set.</summary>
    public bool LimitEnabled => maxQueued > 0;

    /// <summary>Tasks this node committed since the last refresh; read before counting, passed to <see cref="Update"/>.</summary>
    public long CommittedSinceRefresh => Interlocked.Read(ref _committedSinceRefresh);

    /// <summary>Waiting tasks (awaiting, queued and scheduled) as this node believes.</summary>
    public long Waiting => Interlocked.Read(ref _waiting) + CommittedSinceRefresh + Interlocked.Read(ref _inFlight);

    /// <summary>Reserves room for <paramref name="count"/> new tasks; false (nothing reserved) when that would pass the cap.</summary>
    public bool TryReserve(int count)
    {
        if (!LimitEnabled)
        {
            return true;
        }

        var inFlight = Interlocked.Add(ref _inFlight, count);
        if (Interlocked.Read(ref _waiting) + CommittedSinceRefresh + inFlight <= maxQueued)
        {
            return true;
        }

        Interlocked.Add(ref _inFlight, -count);
        return false;
    }

    /// <summary>The reserved tasks are committed: they count until a refresh that started after this sees them.</summary>
    public void Commit(int count)
    {
        if (LimitEnabled)
        {
            // Counted as committed before leaving the in-flight count: for a moment twice, never zero times.
            Interlocked.Add(ref _committedSinceRefresh, count);
            Interlocked.Add(ref _inFlight, -count);
        }
    }

    /// <summary>Gives back a reservation whose insert failed.</summary>
    public void Unreserve(int count)
    {
        if (LimitEnabled)
        {
            Interlocked.Add(ref _inFlight, -count);
        }
    }

    /// <summary>
    /// Takes fresh counts. <paramref name="committedBefore"/> is <see cref="CommittedSinceRefresh"/> read before the
    /// count started: those tasks are in the count now. Tasks committed or in flight while counting keep counting on
    /// their own, so they may be counted twice until the next refresh: the error is always on the safe side.
    /// </summary>
    public void Update(IReadOnlyList<QueueStateCount> counts, long committedBefore)
    {
        var previous = Volatile.Read(ref _counts);
        var queues = counts.Select(c => c.Queue).ToHashSet(StringComparer.Ordinal);
        Volatile.Write(ref _drainedQueues, [.. previous.Select(c => c.Queue).Where(q => !queues.Contains(q)).Distinct(StringComparer.Ordinal)]);
        Volatile.Write(ref _counts, counts);
        Interlocked.Exchange(ref _waiting, counts.Where(c => c.State is TaskState.Awaiting or TaskState.Queued or TaskState.Scheduled).Sum(c => c.Count));
        if (LimitEnabled)
        {
            Interlocked.Add(ref _committedSinceRefresh, -committedBefore);
        }
    }
    /// <summary>
    /// Every unfinished state of every queue seen at the last refresh (zero where none), and zeros for the queues that
    /// emptied since the refresh before, so a gauge never keeps showing a drained queue's last value.
    /// </summary>
    public IEnumerable<QueueStateCount> Observe()
    {
        foreach (var queue in Volatile.Read(ref _counts).GroupBy(c => c.Queue, StringComparer.Ordinal))
        {
            foreach (var state in UnfinishedStates)
            {
                yield return new QueueStateCount(queue.Key, state, queue.FirstOrDefault(c => c.State == state)?.Count ?? 0);
            }
        }

        foreach (var queue in Volatile.Read(ref _drainedQueues))
        {
            foreach (var state in UnfinishedStates)
            {
                yield return new QueueStateCount(queue, state, 0);
            }
        }
    }
}
