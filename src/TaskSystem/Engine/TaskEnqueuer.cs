using System.Data.Common;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Options;
using TaskSystem.Configuration;
using TaskSystem.Diagnostics;
using TaskSystem.ExternalWorkers;
using TaskSystem.Storage;

namespace TaskSystem.Engine;

/// <summary>
/// Every way a task gets in ends here: check the requests, respect <see cref="TaskSystemOptions.MaxQueued"/>, insert
/// them in one durable commit, count them, and wake the dispatcher (other nodes are told by the store in that commit).
/// </summary>
internal sealed class TaskEnqueuer(
    ITaskStore store,
    TaskRequestValidator validator,
    QueueCounts counts,
    TaskMetrics metrics,
    WakeSignal wake,
    ExternalTypes externalTypes,
    WorkerSignals workerSignals,
    TimeProvider time,
    IOptions<TaskSystemOptions> options)
{
    private readonly TaskSystemOptions _options = options.Value;

    /// <summary>Inserts the tasks in one commit (all or none) and returns them in order, with ids.</summary>
    /// <exception cref="TaskValidationException">A request is invalid; nothing was stored.</exception>
    /// <exception cref="TaskQueueFullException">The queue has no room for them; nothing was stored.</exception>
    public async Task<IReadOnlyList<TaskInfo>> EnqueueAsync(IReadOnlyList<TaskRequest> requests, CancellationToken cancellationToken)
    {
        var (tasks, inserted) = await InsertAsync(requests, store.TasksInsertAsync, cancellationToken).ConfigureAwait(false);
        if (inserted.Length > 0)
        {
            Wake(inserted.Min(t => t.RunAt), Array.Exists(inserted, t => externalTypes.Accepts(t.Type)));
        }

        return tasks;
    }

    /// <summary>
    /// Inserts the tasks inside the app's own transaction: they exist if and only if it commits. No wake-up here:
    /// the store's signal commits with the transaction and reaches every node, this one included. Counted as
    /// committed: if the app rolls back, the cap over-counts until the next refresh (the safe side).
    /// </summary>
    /// <exception cref="NotSupportedException">The store cannot join an app's transaction.</exception>
    public async Task<IReadOnlyList<TaskInfo>> EnqueueInTransactionAsync(
        IReadOnlyList<TaskRequest> requests, DbTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        if (InstrumentedTaskStore.Unwrap(store) is not ITaskStoreTransactions transactional)
        {
            throw new NotSupportedException(
                $"The {InstrumentedTaskStore.Unwrap(store).GetType().Name} cannot enqueue inside an application's transaction: only the PostgreSQL store can (the SQLite file is TaskSystem's own).");
        }

        var (tasks, _) = await InsertAsync(
            requests, (parameters, ct) => transactional.TasksInsertInTransactionAsync(parameters, transaction, ct), cancellationToken).ConfigureAwait(false);
        return tasks;
    }

    /// <summary>
    /// Wakes the local dispatcher now, or at <paramref name="runAt"/> for a task that waits for a time, and the
    /// external workers' long polls when a task of <paramref name="type"/> is theirs. Other nodes were told by the
    /// store, in the commit that made the tasks ready.
    /// </summary>
    public void Wake(DateTimeOffset? runAt, string type) => Wake(runAt, externalTypes.Accepts(type));

    private void Wake(DateTimeOffset? runAt, bool forWorkers)
    {
        if (runAt is { } at && at > time.GetUtcNow())
        {
            wake.WakeAt(at);
            if (forWorkers)
            {
                workerSignals.TasksReadyAt(at);
            }
        }
        else
        {
            wake.Set();
            if (forWorkers)
            {
                workerSignals.TasksReady();
            }
        }
    }

    /// <summary>
    /// Checks the requests, then stores them with <paramref name="insert"/> if the queue has room, and counts them.
    /// Returns the tasks as the caller sees them (a task found by its key as it is) and the rows it really added.
    /// </summary>
    private async Task<(IReadOnlyList<TaskInfo> Tasks, NewTask[] Inserted)> InsertAsync(
        IReadOnlyList<TaskRequest> requests,
        Func<TasksInsertParams, CancellationToken, Task<IReadOnlyList<TaskRecord>>> insert,
        CancellationToken cancellationToken)
    {
        if (requests.Count == 0)
        {
            return ([], []);
        }

        using var activity = TaskTracing.StartEnqueue(requests.Count == 1 ? requests[0].Type : null);
        var now = time.GetUtcNow();
        var prepared = new (NewTask Task, JsonElement Payload)[requests.Count];
        for (var i = 0; i < prepared.Length; i++)
        {
            try
            {
                prepared[i] = validator.Prepare(requests[i], now);
            }
            catch (TaskValidationException invalid) when (requests.Count > 1)
            {
                throw invalid.At(i);
            }
        }

        var tasks = Array.ConvertAll(prepared, p => p.Task);
        if (!counts.TryReserve(tasks.Length))
        {
            throw QueueFull(tasks);
        }

        IReadOnlyList<TaskRecord> inserted;
        try
        {
            inserted = await insert(new TasksInsertParams(tasks), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            counts.Unreserve(tasks.Length);
            throw;
        }

        CountAdded(tasks, inserted);
        TaskTracing.Enqueued(activity, inserted);
        var infos = new TaskInfo[inserted.Count];
        for (var i = 0; i < infos.Length; i++)
        {
            // A task found by its key shows its own payload, not the request's.
            infos[i] = inserted[i].Existing ? TaskInfo.From(inserted[i]) : TaskInfo.From(inserted[i], prepared[i].Payload);
        }

        return (infos, [.. tasks.Where((_, i) => !inserted[i].Existing)]);
    }

    /// <summary>Commits the reservation for the tasks actually added; one found by its key added nothing.</summary>
    private void CountAdded(NewTask[] tasks, IReadOnlyList<TaskRecord> inserted)
    {
        var added = tasks.Where((_, i) => !inserted[i].Existing).ToArray();
        counts.Unreserve(tasks.Length - added.Length);
        counts.Commit(added.Length);
        metrics.Enqueued(added);
    }

    private TaskQueueFullException QueueFull(NewTask[] tasks)
    {
        metrics.Rejected(tasks);
        var retryAfter = _options.CountsRefreshInterval;
        return new TaskQueueFullException(
            $"The queue is full: about {counts.Waiting} tasks wait and TaskSystem:MaxQueued is {_options.MaxQueued}. Try again in {retryAfter.TotalSeconds:0.#} s.",
            retryAfter);
    }
}
