using TaskSystem.Engine;

namespace TaskSystem.ExternalWorkers;

/// <summary>
/// Wake-ups for external workers' long polls. "Tasks may be ready" goes to every waiting claim at once (a broadcast,
/// where the dispatcher's signal wakes its one loop), with the earliest time a known task comes due; "a stop was
/// requested" goes to the heartbeat waiting on that task. Like every signal here they carry no work: the store says
/// what there is, so a lost signal costs a poll, never a task.
/// </summary>
internal sealed class WorkerSignals
{
    private TaskCompletionSource _ready = NewReady();
    private int _watched;
    private readonly EarliestDue _due = new();

    /// <summary>Heartbeats waiting for a stop of their task, by task id.</summary>
    public StopWaiters Stops { get; } = new();

    /// <summary>
    /// Completes at the next <see cref="TasksReady()"/>. Take it before claiming: tasks committed while the claim runs
    /// then still end the wait that follows, and tasks committed before it are seen by the claim itself.
    /// </summary>
    public Task NextTasksReady()
    {
        while (true)
        {
            var current = Volatile.Read(ref _ready);
            Volatile.Write(ref _watched, 1);

            // Re-read: a signal that swapped the source between the two lines would have seen no watcher for the new one.
            if (ReferenceEquals(current, Volatile.Read(ref _ready)))
            {
                return current.Task;
            }
        }
    }

    /// <summary>Tasks may be ready now (an enqueue, a retry or a rescue committed, here or on another node).</summary>
    public void TasksReady()
    {
        // Nobody waits: nothing to wake, and nothing allocated on the enqueue path.
        if (Interlocked.Exchange(ref _watched, 0) == 0)
        {
            return;
        }

        Interlocked.Exchange(ref _ready, NewReady()).TrySetResult();
    }

    /// <summary>A task comes due at <paramref name="dueAt"/> (a delayed enqueue, a retry's backoff): waits end no later.</summary>
    public void TasksReadyAt(DateTimeOffset dueAt)
    {
        if (_due.MoveEarlier(dueAt))
        {
            // Waiters may sleep past the new due time: let them recompute.
            TasksReady();
        }
    }

    /// <summary>
    /// Waits for <paramref name="ready"/> (from <see cref="NextTasksReady"/>), the earliest due time, or
    /// <paramref name="maxWait"/>, whichever comes first; false when no signal came. Cancellation ends it quietly.
    /// </summary>
    public async Task<bool> WaitTasksReadyAsync(Task ready, TimeSpan maxWait, TimeProvider time, CancellationToken cancellationToken)
    {
        if (ready.IsCompleted)
        {
            return true;
        }

        using var timeoutSource = _due.StartTimeout(maxWait, time);
        if (timeoutSource is null)
        {
            return false;
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeoutSource.Token, cancellationToken);
        try
        {
            await ready.WaitAsync(linked.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            // The timeout, or the caller's cancellation.
            return false;
        }
    }

    private static TaskCompletionSource NewReady() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
