namespace TaskSystem.Storage;

/// <summary>
/// The only way the engine reaches the database: one implementation per database (SQLite, PostgreSQL),
/// all held to one contract suite. Methods name the noun first and take one params record.
/// Every state change is conditional on the state the caller expects, so races resolve in the database.
/// </summary>
internal partial interface ITaskStore : IAsyncDisposable
{
    /// <summary>What this store guarantees about who else uses the database.</summary>
    StoreCapabilities Capabilities { get; }

    /// <summary>Creates or upgrades the schema. Safe to call from several processes at once.</summary>
    Task MigrateAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Inserts tasks and returns them with ids, in order. Returns only after the rows are durable;
    /// concurrent callers may share one commit. A store shared by several nodes also tells them, in that commit,
    /// that tasks are ready (see <see cref="ITaskNotifier"/>).
    /// </summary>
    Task<IReadOnlyList<TaskRecord>> TasksInsertAsync(TasksInsertParams parameters, CancellationToken cancellationToken);

    /// <summary>One task, or null.</summary>
    Task<TaskRecord?> TaskGetAsync(long id, CancellationToken cancellationToken);

    /// <summary>A page of tasks, newest (highest id) first.</summary>
    Task<IReadOnlyList<TaskRecord>> TasksListAsync(TasksListParams parameters, CancellationToken cancellationToken);

    /// <summary>
    /// How many tasks are in each state, exact, from one snapshot. Its cost follows the unfinished tasks, never the
    /// finished ones: those are counted by counters that every write moving a task into or out of a final state
    /// (an outcome, a stop, a retry, a rescue, retention) keeps in its own transaction. Dashboards read it twice a second.
    /// </summary>
    Task<IReadOnlyDictionary<TaskState, long>> TasksCountByStateAsync(CancellationToken cancellationToken);

    /// <summary>
    /// How many tasks each queue has in each state (only non-zero counts), exact, from one snapshot. Like
    /// <see cref="TasksCountByStateAsync"/>, its cost follows the unfinished tasks (counted from an index that holds their queue).
    /// </summary>
    Task<IReadOnlyList<QueueStateCount>> TasksCountByQueueAsync(CancellationToken cancellationToken);

    /// <summary>
    /// How many unfinished tasks (queued, scheduled, running) each queue has, per state (only non-zero counts).
    /// Its cost follows the unfinished tasks, never the history of finished ones: nodes call it every few seconds
    /// for the queue-depth gauge and the <c>MaxQueued</c> cap.
    /// </summary>
    Task<IReadOnlyList<QueueStateCount>> TasksCountUnfinishedAsync(CancellationToken cancellationToken);

    /// <summary>
    /// How many tasks are in each final state per bucket of their finish time, in whole minutes since a time (for
    /// throughput charts), from per-minute counters kept in the same transactions as the changes (a retried or deleted
    /// task leaves its minute). The counters keep the last <see cref="TasksFinishedHistogramParams.MinutesKept"/>
    /// minutes up to the newest finish (older ones may be gone); the cost is bounded by that, whatever the number of tasks.
    /// </summary>
    Task<IReadOnlyList<FinishedBucket>> TasksFinishedHistogramAsync(TasksFinishedHistogramParams parameters, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes up to <see cref="TasksDeleteFinishedParams.Limit"/> tasks that reached a final state before a time
    /// (retention). Small batches keep each write short so claims and enqueues are never held up.
    /// </summary>
    Task<int> TasksDeleteFinishedAsync(TasksDeleteFinishedParams parameters, CancellationToken cancellationToken);

    /// <summary>
    /// First turns scheduled tasks whose run-at has passed into queued ones; then atomically marks up to
    /// <see cref="TasksClaimParams.Limit"/> queued tasks of the given types as running on the node, in priority then
    /// run-at then id order, counting an attempt, and returns them. Its cost must not grow with the number of tasks
    /// waiting for a later time or queued for types the node does not handle.
    /// </summary>
    Task<IReadOnlyList<TaskRecord>> TasksClaimAsync(TasksClaimParams parameters, CancellationToken cancellationToken);

    /// <summary>
    /// Writes the outcomes of attempts, each only where the task is still running under the same node and claim
    /// (a fence against late completions). Returns, per item, whether it was applied.
    /// A stop recorded before the outcome wins: a task whose stop-requested flag is set ends cancelled whatever the
    /// outcome (a retry is not scheduled, a released attempt is not queued again), keeping the result or the error
    /// the outcome brought. So a stop that <see cref="TaskCancelAsync"/> accepted always ends in cancelled.
    /// </summary>
    Task<IReadOnlyList<bool>> TasksCompleteAsync(TasksCompleteParams parameters, CancellationToken cancellationToken);

    /// <summary>
    /// Stops a task durably: a queued or scheduled task becomes cancelled at once; a running one gets its
    /// stop-requested flag, which its node acts on.
    /// </summary>
    Task<TaskCancelResult> TaskCancelAsync(TaskCancelParams parameters, CancellationToken cancellationToken);

    /// <summary>Puts a failed or cancelled task back in the queue with a fresh set of attempts (telling other nodes, as an insert does).</summary>
    Task<TaskRetryResult> TaskRetryAsync(TaskRetryParams parameters, CancellationToken cancellationToken);

    /// <summary>
    /// Takes back running tasks whose owner is gone: those whose lease expired (never the caller's own), or,
    /// at start, every running task of the given node. A task with a stop request becomes cancelled; one out
    /// of attempts becomes failed; the rest go back to the queue (the interrupted attempt counts). Tasks external
    /// workers hold are never taken here, whatever their lease: the worker lives in another process and may still run
    /// them; <see cref="TasksRescueExternalAsync"/> takes them back once their lease runs out.
    /// </summary>
    Task<IReadOnlyList<RescuedTask>> TasksRescueAsync(TasksRescueParams parameters, CancellationToken cancellationToken);

    /// <summary>Ids of tasks running on the node that have a stop request (the slow path behind the signal).</summary>
    Task<IReadOnlyList<long>> TasksStopRequestedAsync(TasksStopRequestedParams parameters, CancellationToken cancellationToken);

    /// <summary>
    /// Claims the node's name at start, before recovery takes back the tasks left under that name: records the node
    /// unless another node holds the name with a heartbeat at or after <see cref="NodeStartParams.StaleBefore"/>.
    /// Returns false, changing nothing, when the name is held by a live node.
    /// </summary>
    Task<bool> NodeStartAsync(NodeStartParams parameters, CancellationToken cancellationToken);

    /// <summary>
    /// Records that the node is alive and extends the leases of the attempts it holds
    /// (<see cref="NodeHeartbeatParams.Held"/>), each only while the task still runs under the node and that claim.
    /// Returns the ids whose lease was extended: the node's proof of how long it may go on running each handler
    /// (a row busy with another write at that instant may be left for the next beat). One round trip; its cost follows
    /// the held attempts, never the queue.
    /// </summary>
    Task<IReadOnlyList<long>> NodeHeartbeatAsync(NodeHeartbeatParams parameters, CancellationToken cancellationToken);

    /// <summary>Removes the node's row at a clean shutdown.</summary>
    Task NodeRemoveAsync(string node, CancellationToken cancellationToken);

    /// <summary>The nodes that sent a heartbeat, most recent first.</summary>
    Task<IReadOnlyList<NodeRecord>> NodesListAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Claims for an external worker, as <see cref="TasksClaimAsync"/> claims for a node (scheduled tasks that came due
    /// first become queued; then up to <see cref="TasksClaimExternalParams.Limit"/> queued tasks of the given types, and
    /// queues if any, in priority, run-at, id order, become running under the worker with an attempt counted), and
    /// returns them only after the claim is durable: the worker acts on the answer outside this process. Each task's
    /// lease ends at the lease asked for or at its attempt's timeout, whichever comes first. Two claims racing never
    /// take the same task. Its cost follows the types named, as a node's claim does, plus the queued tasks of those
    /// types in other queues that a queue filter skips.
    /// </summary>
    Task<IReadOnlyList<TaskRecord>> TasksClaimExternalAsync(TasksClaimExternalParams parameters, CancellationToken cancellationToken);

    /// <summary>
    /// Extends the lease of a task an external worker holds, only while it runs under that worker and claim (the
    /// fence), never past the attempt's timeout; durable before it returns. Returns the lease and whether a stop
    /// was requested, or null when the worker no longer holds the task (stopped, finished, taken back). One indexed
    /// row write.
    /// </summary>
    Task<TaskLease?> TaskLeaseExtendAsync(TaskLeaseExtendParams parameters, CancellationToken cancellationToken);

    /// <summary>
    /// Takes back tasks whose external worker let its lease run out (it died, hung, or ran past the attempt's
    /// timeout), whatever node calls it, on every store (a SQLite node too: an external worker lives in another
    /// process). Never touches a task a node runs. As <see cref="TasksRescueAsync"/>: a task with a stop request
    /// becomes cancelled, one out of attempts failed, the rest queued (the interrupted attempt counts). Its cost
    /// follows the running tasks.
    /// </summary>
    Task<IReadOnlyList<RescuedTask>> TasksRescueExternalAsync(TasksRescueExternalParams parameters, CancellationToken cancellationToken);
}

/// <summary>What a store guarantees about who else uses the database.</summary>
/// <param name="SingleProcess">
/// Only this process can use the database (SQLite holds a file lock). Every running task at start is then a
/// leftover of a crash, and leases never need to expire to find dead nodes (an external worker's lease still
/// expires: see <see cref="ITaskStore.TasksRescueExternalAsync"/>).
/// </param>
internal sealed record StoreCapabilities(bool SingleProcess);
