using System.Data.Common;

namespace TaskSystem;

/// <summary>
/// What an app does with tasks: enqueue, read, wait, stop, retry. <see cref="TaskManager"/> implements it against the
/// store; inject this interface where the code is to be tested without a database (TaskSystem.Testing has an
/// in-memory fake that records what was enqueued). Typed enqueues with a source-generated <c>JsonTypeInfo</c> are
/// extension methods (<see cref="TaskManagerExtensions"/>), so a fake gets them for free.
/// </summary>
public interface ITaskManager
{
    /// <summary>Adds a task to the queue. Returns once it is committed to the store.</summary>
    /// <exception cref="TaskValidationException">The request is invalid; the message says why.</exception>
    /// <exception cref="TaskQueueFullException">The queue holds <see cref="TaskSystemOptions.MaxQueued"/> tasks already.</exception>
    Task<TaskInfo> EnqueueAsync(TaskRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds a task whose payload is <paramref name="payload"/>, serialized with web defaults (camelCase) through the
    /// app's source-generated contexts (<see cref="TaskSystemBuilder.AddJsonTypeInfoResolver"/>), then reflection unless
    /// the app disabled it.
    /// </summary>
    Task<TaskInfo> EnqueueAsync<TPayload>(string type, TPayload payload, CancellationToken cancellationToken = default);

    /// <summary>Adds many tasks in one commit: all of them, or none when one is invalid.</summary>
    Task<IReadOnlyList<TaskInfo>> EnqueueManyAsync(IEnumerable<TaskRequest> requests, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds a task inside the app's own open transaction on the task database (PostgreSQL): the task exists if and
    /// only if that transaction commits, and workers are woken when it does. The returned task is not visible to
    /// others until then.
    /// </summary>
    /// <exception cref="NotSupportedException">The store cannot join the app's transaction (SQLite: the file is TaskSystem's own).</exception>
    Task<TaskInfo> EnqueueAsync(TaskRequest request, DbTransaction transaction, CancellationToken cancellationToken = default);

    /// <summary>Adds many tasks inside the app's own open transaction (see <see cref="EnqueueAsync(TaskRequest, DbTransaction, CancellationToken)"/>).</summary>
    Task<IReadOnlyList<TaskInfo>> EnqueueManyAsync(IEnumerable<TaskRequest> requests, DbTransaction transaction, CancellationToken cancellationToken = default);

    /// <summary>One task, or null when no task has that id.</summary>
    Task<TaskInfo?> GetAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>A page of tasks, newest first.</summary>
    /// <exception cref="TaskValidationException">The limit or cursor is invalid.</exception>
    Task<TaskPage> ListAsync(TaskListQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits until the task is succeeded, failed or cancelled, and returns it (null when no task has that id, or it
    /// was deleted meanwhile). A task that finishes on this node ends the wait at once; one that finishes on another
    /// node is seen at the next read, every <see cref="TaskSystemOptions.PollInterval"/>.
    /// </summary>
    Task<TaskInfo?> WaitAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stops a task. A queued or scheduled task is cancelled at once and never starts. A running task's token is
    /// cancelled at once; this returns when it no longer runs (at most the stop grace period, after which a handler
    /// that ignores cancellation is abandoned), so the task then shows cancelled.
    /// </summary>
    Task<StopResult> StopAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>Puts a failed or cancelled task back in the queue with a fresh set of attempts.</summary>
    Task<RetryResult> RetryAsync(long id, CancellationToken cancellationToken = default);
}
