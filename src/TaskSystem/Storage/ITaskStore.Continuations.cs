namespace TaskSystem.Storage;

/// <summary>
/// Continuations: a task inserted with parents (<see cref="NewTask.After"/>) waits in <see cref="TaskState.Awaiting"/>.
/// Every write that moves a task into a final state (an outcome, a stop, a rescue) settles that task's awaiting
/// children in its own transaction: a child whose parents have all finished as its policy asks becomes queued (or
/// scheduled, if its run-at is ahead); a child of the all-succeeded policy with a parent that failed or was cancelled
/// becomes cancelled, with an error naming that parent, and its own children are settled in turn. So no child is
/// stranded or released twice, and a restart needs no catch-up scan. The cost of a write that finishes tasks grows by
/// one indexed read of the links of those tasks; a child's settling reads its own parents (at most
/// <see cref="TaskSystemOptions.MaxParents"/>).
/// </summary>
/// <remarks>
/// The insert checks, in its transaction, that every parent exists (<see cref="TaskValidationException"/> on field
/// <c>after</c> otherwise, nothing stored), links them, and settles the child against them at once: a child of
/// parents that all succeeded is queued, one with a parent that already failed is cancelled. On a store shared by
/// nodes, the insert holds its parents' rows (shared) until it commits and a finishing write locks the children it
/// settles, so an insert racing its parent's outcome, or two parents finishing at once on two nodes, still settle the
/// child exactly once. A retry of a task with parents puts it back to awaiting and settles it the same way. A parent
/// deleted by retention counts as finished as its policy asks (it can only have been deleted once finished, and a
/// failed one would already have cancelled its children).
/// </remarks>
internal partial interface ITaskStore
{
    /// <summary>
    /// The parents of a task that are still kept, lowest id first, with their outcome and result. One indexed read of at
    /// most <see cref="TaskSystemOptions.MaxParents"/> links; empty for a task without parents or unknown.
    /// </summary>
    Task<IReadOnlyList<TaskParentRecord>> TaskParentsListAsync(long id, CancellationToken cancellationToken);

    /// <summary>
    /// Called after a write of this process has committed that released continuations into the queue (so this node's
    /// dispatcher wakes; other nodes are told by the store in that commit, as for an insert). Null for none. It must
    /// return at once: it runs on the store's write path.
    /// </summary>
    Action? TasksReleased { get; set; }
}

/// <summary>A parent of a task, as <see cref="ITaskStore.TaskParentsListAsync"/> reads it.</summary>
/// <param name="Id">The parent's id.</param>
/// <param name="Type">The parent's type.</param>
/// <param name="State">The parent's state now.</param>
/// <param name="ResultJson">The parent's result, or null.</param>
/// <param name="Error">The parent's last error, or null.</param>
/// <param name="AnyOutcome">The link's policy: the child runs whatever this parent ends in.</param>
internal sealed record TaskParentRecord(long Id, string Type, TaskState State, string? ResultJson, string? Error, bool AnyOutcome);
