using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TaskSystem.Diagnostics;
using TaskSystem.Engine;
using TaskSystem.Storage;

namespace TaskSystem.Maintenance;

/// <summary>
/// The store-wide upkeep each node runs on an interval: retention (delete finished tasks past
/// <see cref="TaskSystemOptions.Retention"/>, in small batches) and the queue counts behind the depth gauge and the
/// <see cref="TaskSystemOptions.MaxQueued"/> cap.
/// </summary>
internal sealed class Housekeeping(
    ITaskStore store,
    QueueCounts counts,
    TaskMetrics metrics,
    IOptions<TaskSystemOptions> settings,
    TimeProvider time,
    ILogger<Housekeeping> logger)
{
    private readonly TaskSystemOptions _options = settings.Value;

    public TimeSpan RetentionInterval => _options.RetentionInterval;

    public TimeSpan CountsRefreshInterval => _options.CountsRefreshInterval;

    /// <summary>
    /// Deletes finished tasks older than the retention, one small batch per store call until none is left. Each batch
    /// is one short write queued behind the claims and enqueues already waiting, so they never wait for a whole run.
    /// </summary>
    public async Task PruneAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - _options.Retention;
        var started = time.GetTimestamp();
        var total = 0;
        int deleted;
        do
        {
            deleted = await store.TasksDeleteFinishedAsync(new TasksDeleteFinishedParams(cutoff, _options.RetentionBatchSize), cancellationToken)
                .ConfigureAwait(false);
            total += deleted;
            metrics.Deleted(deleted);
            await Task.Yield();
        }
        while (deleted == _options.RetentionBatchSize && !cancellationToken.IsCancellationRequested);

        if (total > 0)
        {
            Log.RetentionDeleted(logger, total, cutoff, time.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    /// <summary>Counts the unfinished tasks, when someone needs them: a metrics listener or the queue cap.</summary>
    public async Task RefreshCountsAsync(CancellationToken cancellationToken)
    {
        if (!counts.LimitEnabled && !metrics.DepthObserved)
        {
            return;
        }

        var committedBefore = counts.CommittedSinceRefresh;
        var current = await store.TasksCountUnfinishedAsync(cancellationToken).ConfigureAwait(false);
        counts.Update(current, committedBefore);
    }
}
