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
    /// consume while the next claim is in flight, with a margin), rounded up, at most one more task per worker, less
    /// those waiting. None when fewer than one claim in ten sees a worker finish: tasks that long lose little to a
    /// claim's round trip, and a task held for them would wait long for a worker.
    /// </summary>
    public int Wanted
    {
        get
        {
            var perClaim = Volatile.Read(ref _completionsPerClaim);
            var target = perClaim < MinCompletionsPerClaim ? 0 : Math.Min(concurrency, (int)Math.Ceiling(2 * perClaim));
            return Volatile.Read(ref _closed) ? 0 : Math.Max(0, target - Count);
        }
    }

    private const double MinCompletionsPerClaim = 0.1;

    /// <summary>Records how many attempts finished while one claim was in flight (a moving average).</summary>
    public void ObserveClaim(long completionsDuringClaim) =>
        Volatile.Write(ref _completionsPerClaim, (0.75 * Volatile.Read(ref _completionsPerClaim)) + (0.25 * completionsDuringClaim));

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
