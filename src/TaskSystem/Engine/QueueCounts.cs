using TaskSystem.Storage;

namespace TaskSystem.Engine;

/// <summary>
/// The node's view of the queue, refreshed from the store every few seconds: unfinished tasks per queue and state
/// (read by the queue-depth gauge, so a scrape never queries), and the admission check of
/// <see cref="TaskSystemOptions.MaxQueued"/>: the waiting tasks counted at the last refresh plus those this node
/// accepted since. That is an upper bound as long as this node is the only one enqueueing; with several nodes
/// each sees the others' enqueues at its next refresh.
/// </summary>
internal sealed class QueueCounts(int maxQueued)
{
    private static readonly TaskState[] UnfinishedStates = [TaskState.Queued, TaskState.Scheduled, TaskState.Running];
    private IReadOnlyList<QueueStateCount> _counts = [];
    private IReadOnlyList<string> _drainedQueues = [];
    private long _waiting;
    private long _acceptedSinceRefresh;

    /// <summary>True when <see cref="TaskSystemOptions.MaxQueued"/> is set.</summary>
    public bool LimitEnabled => maxQueued > 0;

    /// <summary>Tasks reserved by enqueues since the last refresh; read before counting, passed to <see cref="Update"/>.</summary>
    public long AcceptedSinceRefresh => Interlocked.Read(ref _acceptedSinceRefresh);

    /// <summary>Waiting tasks (queued and scheduled) as this node believes.</summary>
    public long Waiting => Interlocked.Read(ref _waiting) + AcceptedSinceRefresh;

    /// <summary>Reserves room for <paramref name="count"/> new tasks; false (nothing reserved) when that would pass the cap.</summary>
    public bool TryReserve(int count)
    {
        if (!LimitEnabled)
        {
            return true;
        }

        var accepted = Interlocked.Add(ref _acceptedSinceRefresh, count);
        if (Interlocked.Read(ref _waiting) + accepted <= maxQueued)
        {
            return true;
        }

        Interlocked.Add(ref _acceptedSinceRefresh, -count);
        return false;
    }

    /// <summary>Gives back a reservation whose insert failed.</summary>
    public void Unreserve(int count)
    {
        if (LimitEnabled)
        {
            Interlocked.Add(ref _acceptedSinceRefresh, -count);
        }
    }

    /// <summary>
    /// Takes fresh counts. <paramref name="acceptedBefore"/> is <see cref="AcceptedSinceRefresh"/> read before the
    /// count started: those tasks are in the count now. Tasks accepted while counting stay reserved too, so they may
    /// be counted twice until the next refresh: the error is on the safe side.
    /// </summary>
    public void Update(IReadOnlyList<QueueStateCount> counts, long acceptedBefore)
    {
        var previous = Volatile.Read(ref _counts);
        var queues = counts.Select(c => c.Queue).ToHashSet(StringComparer.Ordinal);
        Volatile.Write(ref _drainedQueues, [.. previous.Select(c => c.Queue).Where(q => !queues.Contains(q)).Distinct(StringComparer.Ordinal)]);
        Volatile.Write(ref _counts, counts);
        Interlocked.Exchange(ref _waiting, counts.Where(c => c.State is TaskState.Queued or TaskState.Scheduled).Sum(c => c.Count));
        if (LimitEnabled)
        {
            Interlocked.Add(ref _acceptedSinceRefresh, -acceptedBefore);
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
