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
        if (requests.Count == 0)
        {
            return [];
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

        var inserted = await InsertAsync([.. prepared.Select(p => p.Task)], activity, cancellationToken).ConfigureAwait(false);
        var added = prepared.Where((_, i) => !inserted[i].Existing).ToList();
        if (added.Count > 0)
        {
            Wake(added.Min(p => p.Task.RunAt), added.Exists(p => externalTypes.Accepts(p.Task.Type)));
        }

        var tasks = new TaskInfo[inserted.Count];
        for (var i = 0; i < tasks.Length; i++)
        {
            // A task found by its key shows its own payload, not the request's.
            tasks[i] = inserted[i].Existing ? TaskInfo.From(inserted[i]) : TaskInfo.From(inserted[i], prepared[i].Payload);
        }

        return tasks;
    }

    /// <summary>
    /// Inserts the tasks inside the app's own transaction: they exist if and only if it commits. No wake-up here:
    /// the store's signal commits with the transaction and reaches every node, this one included.
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

        if (requests.Count == 0)
        {
            return [];
        }

        using var activity = TaskTracing.StartEnqueue(requests.Count == 1 ? requests[0].Type : null);
        var now = time.GetUtcNow();
        var prepared = requests.Select(request => validator.Prepare(request, now)).ToArray();
        var tasks = prepared.Select(p => p.Task).ToArray();
        if (!counts.TryReserve(tasks.Length))
        {
            throw QueueFull(tasks);
        }

        IReadOnlyList<TaskRecord> inserted;
        try
        {
            inserted = await transactional.TasksInsertInTransactionAsync(new TasksInsertParams(tasks), transaction, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            counts.Unreserve(tasks.Length);
            throw;
        }

        // Counted as committed: if the app rolls back, the cap over-counts until the next refresh (the safe side).
        CountAdded(tasks, inserted);
        TaskTracing.Enqueued(activity, inserted);
        return [.. inserted.Select((record, i) => record.Existing ? TaskInfo.From(record) : TaskInfo.From(record, prepared[i].Payload))];
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

    /// <summary>Stores new tasks if the queue has room for them, and counts them.</summary>
    private async Task<IReadOnlyList<TaskRecord>> InsertAsync(NewTask[] tasks, Activity? activity, CancellationToken cancellationToken)
    {
        if (!counts.TryReserve(tasks.Length))
        {
            throw QueueFull(tasks);
        }

        IReadOnlyList<TaskRecord> inserted;
        try
        {
            inserted = await store.TasksInsertAsync(new TasksInsertParams(tasks), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            counts.Unreserve(tasks.Length);
            throw;
        }

        CountAdded(tasks, inserted);
        TaskTracing.Enqueued(activity, inserted);
        return inserted;
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
