using System.Collections.Concurrent;
using TaskSystem.ExternalWorkers;
using TaskSystem.Storage;

namespace TaskSystem.Engine;

/// <summary>What a bulk action does to each task; each keeps its single-task rule.</summary>
internal enum BulkAction
{
    /// <summary>Stop: an awaiting, queued or scheduled task is cancelled, a running one gets a stop request; finished ones are left.</summary>
    Stop,

    /// <summary>Retry: a failed or cancelled task goes back to the queue with a fresh set of attempts; others are left.</summary>
    Retry,

    /// <summary>Delete: a finished task (succeeded, failed, cancelled) is removed; others are left.</summary>
    Delete,
}

/// <summary>Which tasks a bulk action takes: every criterion given must hold.</summary>
/// <param name="States">Only these states (intersected with those the action applies to); null or empty for all of those.</param>
/// <param name="Queue">Only this queue.</param>
/// <param name="Type">Only this type.</param>
/// <param name="CreatedBefore">Only tasks created before this time.</param>
internal sealed record BulkFilter(IReadOnlyCollection<TaskState>? States, string? Queue, string? Type, DateTimeOffset? CreatedBefore);

/// <summary>What a bulk action did: how many tasks it looked at (matched) and how many it changed (affected).</summary>
internal sealed record BulkResult(BulkAction Action, long Matched, long Affected);

/// <summary>
/// Stop, retry or delete many tasks, by id or by filter, in batches of <see cref="BatchSize"/>: each batch is a page read
/// and short writes of its own, so claims and enqueues go on between them and memory does not grow with the matches.
/// Each task keeps its single-task rule and its fence: a task that moved on in between is left as it is.
/// </summary>
internal sealed class TaskBulkActions(ITaskStore store, TaskStopper stopper, RunningTasks running, WakeSignal wake, WorkerSignals workers, TimeProvider time)
{
    /// <summary>Tasks per batch.</summary>
    public const int BatchSize = 500;

    /// <summary>The most ids one request may name.</summary>
    public const int MaxIds = 1000;

    /// <summary>Stops or retries of one batch in flight at once: enough to share commits, few enough to leave the store's connections to claims.</summary>
    private const int Parallelism = 8;

    public async Task<BulkResult> ApplyAsync(BulkAction action, IReadOnlyCollection<long> ids, CancellationToken cancellationToken)
    {
        long affected = 0;
        foreach (var batch in ids.Distinct().Chunk(BatchSize))
        {
            affected += await ApplyBatchAsync(action, batch, cancellationToken).ConfigureAwait(false);
        }

        return new BulkResult(action, ids.Distinct().Count(), affected);
    }

    public async Task<BulkResult> ApplyAsync(BulkAction action, BulkFilter filter, CancellationToken cancellationToken)
    {
        var eligible = Eligible(action);
        var states = filter.States is { Count: > 0 } wanted ? [.. eligible.Intersect(wanted)] : eligible;
        long matched = 0, affected = 0;
        if (states.Length == 0)
        {
            return new BulkResult(action, 0, 0);
        }

        long? cursor = null;
        while (true)
        {
            // Newest first, below the cursor: tasks the action moves (a retry, a stop) never come back into later pages.
            var page = await store.TasksListAsync(new TasksListParams(states, filter.Type, filter.Queue, cursor, BatchSize), cancellationToken).ConfigureAwait(false);
            if (page.Count == 0)
            {
                break;
            }

            cursor = page[^1].Id;
            var ids = page.Where(t => filter.CreatedBefore is not { } before || t.CreatedAt < before).Select(t => t.Id).ToList();
            matched += ids.Count;
            affected += await ApplyBatchAsync(action, ids, cancellationToken).ConfigureAwait(false);
            if (page.Count < BatchSize)
            {
                break;
            }

            // Let claims and enqueues waiting on the store go first.
            await Task.Yield();
        }

        return new BulkResult(action, matched, affected);
    }

    private static TaskState[] Eligible(BulkAction action) => action switch
    {
        BulkAction.Stop => [TaskState.Awaiting, TaskState.Queued, TaskState.Scheduled, TaskState.Running],
        BulkAction.Retry => [TaskState.Failed, TaskState.Cancelled],
        _ => [TaskState.Succeeded, TaskState.Failed, TaskState.Cancelled],
    };

    private async Task<int> ApplyBatchAsync(BulkAction action, IReadOnlyCollection<long> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return 0;
        }

        if (action == BulkAction.Delete)
        {
            return await store.TasksDeleteAsync(ids, cancellationToken).ConfigureAwait(false);
        }

        var changed = new ConcurrentBag<long>();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken }, async (id, token) =>
        {
            if (action == BulkAction.Stop)
            {
                if (await stopper.RequestStopAsync(id, token).ConfigureAwait(false) is TaskCancelOutcome.Cancelled or TaskCancelOutcome.StopRequested)
                {
                    changed.Add(id);
                }
            }
            else if (!running.HasAbandonedHandler(id)
                && (await store.TaskRetryAsync(new TaskRetryParams(id, time.GetUtcNow()), token).ConfigureAwait(false)).Outcome == RetryOutcome.Queued)
            {
                changed.Add(id);
            }
        }).ConfigureAwait(false);

        if (action == BulkAction.Retry && !changed.IsEmpty)
        {
            // This node's dispatcher and long polls; the store told the other nodes with each retry.
            wake.Set();
            workers.TasksReady();
        }

        return changed.Count;
    }
}
