namespace TaskSystem.Storage;

/// <summary>What bulk actions need beyond the single-task transitions: deleting given finished tasks (a purge).</summary>
internal partial interface ITaskStore
{
    /// <summary>
    /// Deletes those of the given tasks that are in a final state (succeeded, failed, cancelled), with their progress,
    /// keeping the finished counters right in the same transaction; tasks in any other state, or gone, are left.
    /// Returns how many were deleted. Callers pass a bounded batch (a few hundred ids), so the write stays short and
    /// claims and enqueues are never held up.
    /// </summary>
    Task<int> TasksDeleteAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken);
}
