using TaskSystem.Diagnostics;

namespace TaskSystem.Storage;

/// <summary>The progress calls, timed as every other store call.</summary>
internal partial class InstrumentedTaskStore
{
    private static readonly StoreOperation TaskProgressSet = new("task.progress_set");
    private static readonly StoreOperation TasksProgressGet = new("tasks.progress_get");
    private static readonly StoreOperation TasksProgressRunning = new("tasks.progress_running");

    public Task<bool> TaskProgressSetAsync(TaskProgressSetParams parameters, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(TaskProgressSet, static (store, p, ct) => store.TaskProgressSetAsync(p, ct), parameters, cancellationToken)
            : Inner.TaskProgressSetAsync(parameters, cancellationToken);

    public Task<IReadOnlyList<TaskProgressRecord>> TasksProgressGetAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(TasksProgressGet, static (store, p, ct) => store.TasksProgressGetAsync(p, ct), ids, cancellationToken)
            : Inner.TasksProgressGetAsync(ids, cancellationToken);

    public Task<IReadOnlyList<TaskProgressRecord>> TasksProgressRunningAsync(TasksProgressRunningParams parameters, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(TasksProgressRunning, static (store, p, ct) => store.TasksProgressRunningAsync(p, ct), parameters, cancellationToken)
            : Inner.TasksProgressRunningAsync(parameters, cancellationToken);
}
