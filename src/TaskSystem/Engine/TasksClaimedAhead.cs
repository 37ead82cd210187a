using System.Diagnostics.CodeAnalysis;

namespace TaskSystem.Engine;

/// <summary>
/// Tasks claimed before a worker was free for them, so that a worker that finishes starts its next task at once
/// instead of waiting for the dispatcher's next claim and its commit. Each is a claimed attempt like any other
/// (registered as running, its lease renewed by heartbeats, stoppable), but holds no worker slot: a finishing worker
/// hands its slot over to the oldest. The set stays small and short-lived: it is sized to the completions seen during
/// a claim's round trip (so long tasks get none), and a task no worker took within <see cref="MaxHold"/> goes back
/// to the queue, where another node may take it; so does every waiting task when the node stops claiming.
/// </summary>
internal sealed class TasksClaimedAhead(int concurrency, TimeProvider time)
{
    /// <summary>How long a task may wait here for a worker before it is released to the queue.</summary>
    public static readonly TimeSpan MaxHold = TimeSpan.FromMilliseconds(100);

    private readonly Queue<TaskExecution> _waiting = new();
    private int _count;
    private bool _closed;
    private double _completionsPerClaim;

    /// <summary>How many wait for a worker now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>
    /// How many more to claim ahead: twice the completions a claim's round trip has lately seen (what the workers
    /// consume while the next claim is in flight, with a margin), rounded up, at most <see cref="MaxPerWorker"/> per worker, less
    /// those waiting. None when fewer than one claim in ten sees a worker finish: tasks that long lose little to a
    /// claim's round trip, and a task held for them would wait long for a worker.
    /// </summary>
    public int Wanted
    {
        get
        {
            var perClaim = Volatile.Read(ref _completionsPerClaim);
            var target = perClaim < MinCompletionsPerClaim ? 0 : Math.Min(concurrency * MaxPerWorker, (int)Math.Ceiling(2 * perClaim));
            return Volatile.Read(ref _closed) ? 0 : Math.Max(0, target - Count);
        }
    }

    private const double MinCompletionsPerClaim = 0.1;

    /// <summary>
    /// The most held per worker. Only tasks far shorter than a claim's round trip reach it: with 5 workers on no-op
    /// tasks on PostgreSQL, one per worker gave 5,600-6,400 tasks/s, two 6,400-8,500 and four 8,200-9,300 (statements
    /// per task 0.44 → 0.27); eight moved nothing more. Each stays bounded by the 100 ms hold.
    /// </summary>
    private const int MaxPerWorker = 4;

    /// <summary>Records how many attempts one claim's round trip is worth (a moving average).</summary>
    public void ObserveClaim(double completionsDuringClaim) =>
        Volatile.Write(ref _completionsPerClaim, (0.75 * Volatile.Read(ref _completionsPerClaim)) + (0.25 * completionsDuringClaim));

    private long _lastClaimSubmitted;
    private long _lastClaimSent;

    /// <summary>
    /// Records a claim from the finished-attempt counter before it was sent and after it returned: the larger of the
    /// attempts that finished during its round trip and those the recent rate of completions (since the previous
    /// claim was sent) puts in a round trip. The second counts for tasks so short that they finish before the next
    /// claim is even sent, so that none finishes during it: without it a node of few workers on such tasks would never
    /// claim ahead and would move them in rounds of its worker count. Called by the dispatcher's loop only.
    /// </summary>
    public void ObserveClaim(long submittedBefore, long submittedAfter, long sentTimestamp, long returnedTimestamp)
    {
        var during = submittedAfter - submittedBefore;
        var atRecentRate = 0.0;
        if (_lastClaimSent != 0)
        {
            var window = time.GetElapsedTime(_lastClaimSent, returnedTimestamp);
            var flight = time.GetElapsedTime(sentTimestamp, returnedTimestamp);
            if (window > TimeSpan.Zero)
            {
                atRecentRate = (submittedAfter - _lastClaimSubmitted) * (flight / window);
            }
        }

        _lastClaimSubmitted = submittedBefore;
        _lastClaimSent = sentTimestamp;
        ObserveClaim(Math.Max(during, atRecentRate));
    }

    /// <summary>
    /// Adds an attempt made with <see cref="TaskExecution.ClaimedAhead"/>. Once its token is cancelled (a stop, the
    /// node fencing itself), <paramref name="resolve"/> ends it at once, unless a worker began it first.
    /// </summary>
    public void Add(TaskExecution execution, Action<TaskExecution> resolve)
    {
        execution.ClaimedAheadTimestamp = time.GetTimestamp();
        lock (_waiting)
        {
            _waiting.Enqueue(execution);
            Interlocked.Increment(ref _count);
        }

        execution.Token.UnsafeRegister(
            static (state, _) =>
            {
                var (self, execution, resolve) = ((TasksClaimedAhead, TaskExecution, Action<TaskExecution>))state!;
                if (execution.TryResolveUnstarted())
                {
                    Interlocked.Decrement(ref self._count);
                    resolve(execution);
                }
            },
            (this, execution, resolve));
    }

    /// <summary>Takes the oldest waiting attempt, begun for the caller's worker slot.</summary>
    public bool TryBegin([NotNullWhen(true)] out TaskExecution? execution)
    {
        if (Count == 0)
        {
            execution = null;
            return false;
        }

        lock (_waiting)
        {
            while (!_closed && _waiting.TryDequeue(out execution))
            {
                if (execution.TryBegin())
                {
                    Interlocked.Decrement(ref _count);
                    return true;
                }
            }
        }

        execution = null;
        return false;
    }

    /// <summary>Takes the attempts that waited longer than <see cref="MaxHold"/>, resolved for release.</summary>
    public List<TaskExecution>? TakeExpired()
    {
        if (Count == 0)
        {
            return null;
        }

        List<TaskExecution>? expired = null;
        lock (_waiting)
        {
            while (_waiting.TryPeek(out var oldest) && (!oldest.IsWaitingForWorker || time.GetElapsedTime(oldest.ClaimedAheadTimestamp) > MaxHold))
            {
                _waiting.Dequeue();
                if (oldest.TryResolveUnstarted())
                {
                    Interlocked.Decrement(ref _count);
                    (expired ??= []).Add(oldest);
                }
            }
        }

        return expired;
    }

    /// <summary>When the oldest waiting attempt is due for release, or null when none waits.</summary>
    public DateTimeOffset? NextExpiry()
    {
        if (Count == 0)
        {
            return null;
        }

        lock (_waiting)
        {
            return _waiting.TryPeek(out var oldest)
                ? time.GetUtcNow() + MaxHold - time.GetElapsedTime(oldest.ClaimedAheadTimestamp)
                : null;
        }
    }

    /// <summary>Refuses further begins and takes every waiting attempt, resolved for release (the node stops claiming); null when none waits.</summary>
    public List<TaskExecution>? Close()
    {
        List<TaskExecution>? all = null;
        lock (_waiting)
        {
            Volatile.Write(ref _closed, true);
            while (_waiting.TryDequeue(out var execution))
            {
                if (execution.TryResolveUnstarted())
                {
                    Interlocked.Decrement(ref _count);
                    (all ??= []).Add(execution);
                }
            }
        }

        return all;
    }
}
