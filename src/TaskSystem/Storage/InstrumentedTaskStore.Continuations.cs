using TaskSystem.Diagnostics;

namespace TaskSystem.Storage;

/// <summary>The continuations' read, timed as every other store call; the release hook goes straight to the store.</summary>
internal partial class InstrumentedTaskStore
{
    private static readonly StoreOperation TaskParentsList = new("task.parents_list");

    public Action? TasksReleased
    {
        get => Inner.TasksReleased;
        set => Inner.TasksReleased = value;
    }

    public Task<IReadOnlyList<TaskParentRecord>> TaskParentsListAsync(long id, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(TaskParentsList, static (store, p, ct) => store.TaskParentsListAsync(p, ct), id, cancellationToken)
            : Inner.TaskParentsListAsync(id, cancellationToken);
}
