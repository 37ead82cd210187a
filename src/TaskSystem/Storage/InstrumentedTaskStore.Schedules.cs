using TaskSystem.Diagnostics;

namespace TaskSystem.Storage;

/// <summary>The schedule calls, timed and traced as every store call is.</summary>
internal partial class InstrumentedTaskStore
{
    private static readonly StoreOperation SchedulesList = new("schedules.list");
    private static readonly StoreOperation ScheduleGet = new("schedule.get");
    private static readonly StoreOperation ScheduleUpsert = new("schedule.upsert");
    private static readonly StoreOperation ScheduleDelete = new("schedule.delete");
    private static readonly StoreOperation SchedulePause = new("schedule.pause");
    private static readonly StoreOperation ScheduleFire = new("schedule.fire");

    public Task<IReadOnlyList<ScheduleRecord>> SchedulesListAsync(CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(SchedulesList, static (store, _, ct) => store.SchedulesListAsync(ct), 0, cancellationToken)
            : Inner.SchedulesListAsync(cancellationToken);

    public Task<ScheduleRecord?> ScheduleGetAsync(string name, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(ScheduleGet, static (store, p, ct) => store.ScheduleGetAsync(p, ct), name, cancellationToken)
            : Inner.ScheduleGetAsync(name, cancellationToken);

    public Task<ScheduleRecord> ScheduleUpsertAsync(ScheduleUpsertParams parameters, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(ScheduleUpsert, static (store, p, ct) => store.ScheduleUpsertAsync(p, ct), parameters, cancellationToken)
            : Inner.ScheduleUpsertAsync(parameters, cancellationToken);

    public Task<bool> ScheduleDeleteAsync(string name, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(ScheduleDelete, static (store, p, ct) => store.ScheduleDeleteAsync(p, ct), name, cancellationToken)
            : Inner.ScheduleDeleteAsync(name, cancellationToken);

    public Task<ScheduleRecord?> SchedulePauseAsync(SchedulePauseParams parameters, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(SchedulePause, static (store, p, ct) => store.SchedulePauseAsync(p, ct), parameters, cancellationToken)
            : Inner.SchedulePauseAsync(parameters, cancellationToken);

    public Task<ScheduleFireResult> ScheduleFireAsync(ScheduleFireParams parameters, CancellationToken cancellationToken) =>
        _telemetry.Enabled
            ? MeasureAsync(ScheduleFire, static (store, p, ct) => store.ScheduleFireAsync(p, ct), parameters, cancellationToken)
            : Inner.ScheduleFireAsync(parameters, cancellationToken);
}
