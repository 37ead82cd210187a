namespace TaskSystem.Storage;

/// <summary>
/// Queue pause: durable state that every claim statement reads (a node's, and an external worker's), so a claim stays
/// one statement and a paused queue is skipped on every node from the commit of the pause on. Resuming is a wake-up
/// on top: the store tells the other nodes, in the same commit, that tasks are ready.
/// </summary>
internal partial interface ITaskStore
{
    /// <summary>
    /// Pauses or resumes a queue for every node. Durable (fsync'd on SQLite) before it returns. A claim statement that
    /// starts after it returns sees it: no task of a paused queue is claimed after that; tasks already running finish.
    /// Resuming tells the other nodes that tasks are ready (in the same commit, on a shared store). Returns whether the
    /// pause state changed (false when the queue already was in that state). One row write.
    /// </summary>
    Task<bool> QueuePauseSetAsync(QueuePauseSetParams parameters, CancellationToken cancellationToken);

    /// <summary>The paused queues, by name. Its cost follows the paused queues only.</summary>
    Task<IReadOnlyList<QueuePauseRecord>> QueuesPausedAsync(CancellationToken cancellationToken);
}

/// <summary>Parameters of <see cref="ITaskStore.QueuePauseSetAsync"/>.</summary>
/// <param name="Queue">The queue's name (need not have tasks).</param>
/// <param name="Paused">True to pause, false to resume.</param>
/// <param name="At">When (recorded as the pause's time).</param>
internal sealed record QueuePauseSetParams(string Queue, bool Paused, DateTimeOffset At);

/// <summary>A paused queue and since when.</summary>
internal sealed record QueuePauseRecord(string Queue, DateTimeOffset PausedAt);
