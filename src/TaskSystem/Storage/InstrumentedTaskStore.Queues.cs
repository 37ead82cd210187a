using TaskSystem.Diagnostics;

namespace TaskSystem.Storage;

/// <summary>The queue pause calls, timed as every other store call.</summary>
internal partial class InstrumentedTaskStore
{
    private static readonly StoreOperation QueuePauseSet = new("queue.pause_set");
    private static readonly StoreOperation QueuesPaused = new("queues.paused");

    public Task<bool> QueuePauseSetAsync(QueuePauseSetParams parameters, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(QueuePauseSet, static (store, p, ct) => store.QueuePauseSetAsync(p, ct), parameters, cancellationToken)
            : Inner.QueuePauseSetAsync(parameters, cancellationToken);

    public Task<IReadOnlyList<QueuePauseRecord>> QueuesPausedAsync(CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(QueuesPaused, static (store, _, ct) => store.QueuesPausedAsync(ct), 0, cancellationToken)
            : Inner.QueuesPausedAsync(cancellationToken);
}
