using TaskSystem.Diagnostics;

namespace TaskSystem.Storage;

/// <summary>The bulk delete, timed as every other store call.</summary>
internal partial class InstrumentedTaskStore
{
    private static readonly StoreOperation TasksDelete = new("tasks.delete");

    public Task<int> TasksDeleteAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(TasksDelete, static (store, p, ct) => store.TasksDeleteAsync(p, ct), ids, cancellationToken)
            : Inner.TasksDeleteAsync(ids, cancellationToken);
}
