using TaskSystem.Diagnostics;

namespace TaskSystem.Storage;

/// <summary>
/// Any store, with every call timed and traced in one place (<see cref="StoreTelemetry"/>): the duration histogram
/// and the span of each operation, with its outcome. When nobody listens, each call goes straight to the store
/// (one branch); when someone does, a call costs its measurement and one continuation. A store that signals other
/// nodes stays one (<see cref="Wrap"/> keeps <see cref="ITaskNotifier"/>). A new store method gets one line here.
/// </summary>
internal partial class InstrumentedTaskStore : ITaskStore
{
    private static readonly StoreOperation Migrate = new("migrate");
    private static readonly StoreOperation TasksInsert = new("tasks.insert");
    private static readonly StoreOperation TaskGet = new("task.get");
    private static readonly StoreOperation TasksList = new("tasks.list");
    private static readonly StoreOperation TasksCountByState = new("tasks.count_by_state");
    private static readonly StoreOperation TasksCountByQueue = new("tasks.count_by_queue");
    private static readonly StoreOperation TasksCountUnfinished = new("tasks.count_unfinished");
    private static readonly StoreOperation TasksFinishedHistogram = new("tasks.finished_histogram");
    private static readonly StoreOperation TasksDeleteFinished = new("tasks.delete_finished");
    private static readonly StoreOperation TasksClaim = new("tasks.claim");
    private static readonly StoreOperation TasksComplete = new("tasks.complete");
    private static readonly StoreOperation TaskCancel = new("task.cancel");
    private static readonly StoreOperation TaskRetry = new("task.retry");
    private static readonly StoreOperation TasksRescue = new("tasks.rescue");
    private static readonly StoreOperation TasksStopRequested = new("tasks.stop_requested");
    private static readonly StoreOperation TasksClaimExternal = new("tasks.claim_external");
    private static readonly StoreOperation TaskLeaseExtend = new("task.lease_extend");
    private static readonly StoreOperation TasksRescueExternal = new("tasks.rescue_external");
    private static readonly StoreOperation NodeStart = new("node.start");
    private static readonly StoreOperation NodeHeartbeat = new("node.heartbeat");
    private static readonly StoreOperation NodeRemove = new("node.remove");
    private static readonly StoreOperation NodesList = new("nodes.list");

    private readonly StoreTelemetry _telemetry;

    protected InstrumentedTaskStore(ITaskStore inner, StoreTelemetry telemetry)
    {
        Inner = inner;
        _telemetry = telemetry;
    }

    /// <summary>The store every call goes to (for code that needs what only that store has).</summary>
    public ITaskStore Inner { get; }

    public StoreCapabilities Capabilities => Inner.Capabilities;

    /// <summary>The store under the instrumentation, for what only it offers (joining an app's transaction, its name).</summary>
    public static ITaskStore Unwrap(ITaskStore store) => store is InstrumentedTaskStore instrumented ? instrumented.Inner : store;

    /// <summary>Instruments <paramref name="store"/>, keeping it a notifier if it is one.</summary>
    public static ITaskStore Wrap(ITaskStore store, StoreTelemetry telemetry) => store switch
    {
        InstrumentedTaskStore => store,
        ITaskNotifier => new Notifying(store, telemetry),
        _ => new InstrumentedTaskStore(store, telemetry),
    };

    public Task MigrateAsync(CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(Migrate, static (store, _, ct) => store.MigrateAsync(ct), 0, cancellationToken)
            : Inner.MigrateAsync(cancellationToken);

    public Task<IReadOnlyList<TaskRecord>> TasksInsertAsync(TasksInsertParams parameters, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(TasksInsert, static (store, p, ct) => store.TasksInsertAsync(p, ct), parameters, cancellationToken)
            : Inner.TasksInsertAsync(parameters, cancellationToken);

    public Task<TaskRecord?> TaskGetAsync(long id, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(TaskGet, static (store, p, ct) => store.TaskGetAsync(p, ct), id, cancellationToken)
            : Inner.TaskGetAsync(id, cancellationToken);

    public Task<IReadOnlyList<TaskRecord>> TasksListAsync(TasksListParams parameters, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(TasksList, static (store, p, ct) => store.TasksListAsync(p, ct), parameters, cancellationToken)
            : Inner.TasksListAsync(parameters, cancellationToken);

    public Task<IReadOnlyDictionary<TaskState, long>> TasksCountByStateAsync(CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(TasksCountByState, static (store, _, ct) => store.TasksCountByStateAsync(ct), 0, cancellationToken)
            : Inner.TasksCountByStateAsync(cancellationToken);

    public Task<IReadOnlyList<QueueStateCount>> TasksCountByQueueAsync(CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(TasksCountByQueue, static (store, _, ct) => store.TasksCountByQueueAsync(ct), 0, cancellationToken)
            : Inner.TasksCountByQueueAsync(cancellationToken);

    public Task<IReadOnlyList<QueueStateCount>> TasksCountUnfinishedAsync(CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(TasksCountUnfinished, static (store, _, ct) => store.TasksCountUnfinishedAsync(ct), 0, cancellationToken)
            : Inner.TasksCountUnfinishedAsync(cancellationToken);

    public Task<IReadOnlyList<FinishedBucket>> TasksFinishedHistogramAsync(TasksFinishedHistogramParams parameters, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(TasksFinishedHistogram, static (store, p, ct) => store.TasksFinishedHistogramAsync(p, ct), parameters, cancellationToken)
            : Inner.TasksFinishedHistogramAsync(parameters, cancellationToken);

    public Task<int> TasksDeleteFinishedAsync(TasksDeleteFinishedParams parameters, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(TasksDeleteFinished, static (store, p, ct) => store.TasksDeleteFinishedAsync(p, ct), parameters, cancellationToken)
            : Inner.TasksDeleteFinishedAsync(parameters, cancellationToken);

    public Task<IReadOnlyList<TaskRecord>> TasksClaimAsync(TasksClaimParams parameters, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(TasksClaim, static (store, p, ct) => store.TasksClaimAsync(p, ct), parameters, cancellationToken)
            : Inner.TasksClaimAsync(parameters, cancellationToken);

    public Task<IReadOnlyList<bool>> TasksCompleteAsync(TasksCompleteParams parameters, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(TasksComplete, static (store, p, ct) => store.TasksCompleteAsync(p, ct), parameters, cancellationToken)
            : Inner.TasksCompleteAsync(parameters, cancellationToken);

    public Task<TaskCancelResult> TaskCancelAsync(TaskCancelParams parameters, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(TaskCancel, static (store, p, ct) => store.TaskCancelAsync(p, ct), parameters, cancellationToken)
            : Inner.TaskCancelAsync(parameters, cancellationToken);

    public Task<TaskRetryResult> TaskRetryAsync(TaskRetryParams parameters, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(TaskRetry, static (store, p, ct) => store.TaskRetryAsync(p, ct), parameters, cancellationToken)
            : Inner.TaskRetryAsync(parameters, cancellationToken);

    public Task<IReadOnlyList<RescuedTask>> TasksRescueAsync(TasksRescueParams parameters, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(TasksRescue, static (store, p, ct) => store.TasksRescueAsync(p, ct), parameters, cancellationToken)
            : Inner.TasksRescueAsync(parameters, cancellationToken);

    public Task<IReadOnlyList<TaskRecord>> TasksClaimExternalAsync(TasksClaimExternalParams parameters, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(TasksClaimExternal, static (store, p, ct) => store.TasksClaimExternalAsync(p, ct), parameters, cancellationToken)
            : Inner.TasksClaimExternalAsync(parameters, cancellationToken);

    public Task<TaskLease?> TaskLeaseExtendAsync(TaskLeaseExtendParams parameters, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(TaskLeaseExtend, static (store, p, ct) => store.TaskLeaseExtendAsync(p, ct), parameters, cancellationToken)
            : Inner.TaskLeaseExtendAsync(parameters, cancellationToken);

    public Task<IReadOnlyList<RescuedTask>> TasksRescueExternalAsync(TasksRescueExternalParams parameters, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(TasksRescueExternal, static (store, p, ct) => store.TasksRescueExternalAsync(p, ct), parameters, cancellationToken)
            : Inner.TasksRescueExternalAsync(parameters, cancellationToken);

    public Task<IReadOnlyList<long>> TasksStopRequestedAsync(TasksStopRequestedParams parameters, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(TasksStopRequested, static (store, p, ct) => store.TasksStopRequestedAsync(p, ct), parameters, cancellationToken)
            : Inner.TasksStopRequestedAsync(parameters, cancellationToken);

    public Task<bool> NodeStartAsync(NodeStartParams parameters, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(NodeStart, static (store, p, ct) => store.NodeStartAsync(p, ct), parameters, cancellationToken)
            : Inner.NodeStartAsync(parameters, cancellationToken);

    public Task<IReadOnlyList<long>> NodeHeartbeatAsync(NodeHeartbeatParams parameters, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(NodeHeartbeat, static (store, p, ct) => store.NodeHeartbeatAsync(p, ct), parameters, cancellationToken)
            : Inner.NodeHeartbeatAsync(parameters, cancellationToken);

    public Task NodeRemoveAsync(string node, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(NodeRemove, static (store, p, ct) => store.NodeRemoveAsync(p, ct), node, cancellationToken)
            : Inner.NodeRemoveAsync(node, cancellationToken);

    public Task<IReadOnlyList<NodeRecord>> NodesListAsync(CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(NodesList, static (store, _, ct) => store.NodesListAsync(ct), 0, cancellationToken)
            : Inner.NodesListAsync(cancellationToken);

    public ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return Inner.DisposeAsync();
    }

    /// <summary>
    /// Times one call. The span starts before the store is called, so that the store's own work (and any span a
    /// database driver makes) nests under it; being an async method, it leaves the caller's current span as it was.
    /// </summary>
    private async Task<TResult> MeasureAsync<TParams, TResult>(
        StoreOperation operation, Func<ITaskStore, TParams, CancellationToken, Task<TResult>> call, TParams parameters, CancellationToken cancellationToken)
    {
        var measured = _telemetry.Start(operation);
        try
        {
            var result = await call(Inner, parameters, cancellationToken).ConfigureAwait(false);
            _telemetry.Finish(measured, error: null, result);
            return result;
        }
        catch (Exception exception)
        {
            _telemetry.Finish(measured, exception);
            throw;
        }
    }

    /// <summary>Times one call that returns nothing, as the overload above does.</summary>
    private async Task MeasureAsync<TParams>(
        StoreOperation operation, Func<ITaskStore, TParams, CancellationToken, Task> call, TParams parameters, CancellationToken cancellationToken)
    {
        var measured = _telemetry.Start(operation);
        try
        {
            await call(Inner, parameters, cancellationToken).ConfigureAwait(false);
            _telemetry.Finish(measured, error: null);
        }
        catch (Exception exception)
        {
            _telemetry.Finish(measured, exception);
            throw;
        }
    }

    /// <summary>A store that also signals other nodes: the signals pass through untimed (they are not store calls).</summary>
    private sealed class Notifying(ITaskStore inner, StoreTelemetry telemetry) : InstrumentedTaskStore(inner, telemetry), ITaskNotifier
    {
        private readonly ITaskNotifier _notifier = (ITaskNotifier)inner;

        public ValueTask NotifyStopAsync(long taskId, string node, CancellationToken cancellationToken) =>
            _notifier.NotifyStopAsync(taskId, node, cancellationToken);

        public Task ListenAsync(ITaskSignalHandler handler, CancellationToken cancellationToken) =>
            _notifier.ListenAsync(handler, cancellationToken);
    }
}
