namespace TaskSystem.Storage;

/// <summary>
/// Recurring schedules. Any node may fire a tick: the schedule's row moves on only where it still expects that tick
/// (a fence like a task's state), and the tick's task is unique per (schedule, tick), so the database lets one
/// node make it and the others do nothing. No leader.
/// </summary>
internal partial interface ITaskStore
{
    /// <summary>Every schedule, by name. Its cost follows the number of schedules, never the tasks.</summary>
    Task<IReadOnlyList<ScheduleRecord>> SchedulesListAsync(CancellationToken cancellationToken);

    /// <summary>One schedule, or null. One indexed row.</summary>
    Task<ScheduleRecord?> ScheduleGetAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Creates a schedule or replaces its definition, durably, and returns the row. A replacement that keeps the timing
    /// (cron, time zone, interval) and the paused flag keeps the next tick it was waiting for, so a restart that
    /// declares its schedules again never loses or repeats a tick; otherwise the next tick is
    /// the row's <see cref="ScheduleRecord.NextRunAt"/>. Last run and last task are kept. One row.
    /// </summary>
    Task<ScheduleRecord> ScheduleUpsertAsync(ScheduleUpsertParams parameters, CancellationToken cancellationToken);

    /// <summary>Deletes a schedule (its tasks stay); false when there was none. One row.</summary>
    Task<bool> ScheduleDeleteAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Pauses or resumes a schedule, durably; a resume waits for <see cref="SchedulePauseParams.NextRunAt"/> (ticks due
    /// while paused are not made up). Returns the row after, or null when there is none. One row.
    /// </summary>
    Task<ScheduleRecord?> SchedulePauseAsync(SchedulePauseParams parameters, CancellationToken cancellationToken);

    /// <summary>
    /// Fires one tick, durably, in one transaction: only where the schedule exists, is not paused and still waits for
    /// <see cref="ScheduleFireParams.Expected"/>, it moves on to <see cref="ScheduleFireParams.NextRunAt"/> and inserts
    /// the tick's task, unless <see cref="ScheduleFireParams.SkipWhileUnfinished"/> and its previous task is
    /// unfinished. A racing node's call finds the row moved and does nothing (<see cref="ScheduleFireOutcome.Lost"/>);
    /// the task's unique (schedule, tick) key backs this up. A few indexed rows.
    /// </summary>
    Task<ScheduleFireResult> ScheduleFireAsync(ScheduleFireParams parameters, CancellationToken cancellationToken);
}

/// <summary>A schedule's row.</summary>
/// <param name="Name">Its name, unique.</param>
/// <param name="Cron">The cron expression, or null for an interval.</param>
/// <param name="TimeZone">The time zone id the cron is read in.</param>
/// <param name="Every">The interval, or null for a cron.</param>
/// <param name="TemplateJson">The task template, JSON.</param>
/// <param name="Paused">Paused: it fires nothing.</param>
/// <param name="Overlap">The overlap policy, on the wire (<c>allow</c>, <c>skip</c>).</param>
/// <param name="Misfire">The misfire policy, on the wire (<c>skip</c>, <c>runOnce</c>).</param>
/// <param name="NextRunAt">The tick it waits for; null when it will never tick again.</param>
/// <param name="LastRunAt">The latest tick fired (with or without a task).</param>
/// <param name="LastTaskId">The task of the latest tick that made one.</param>
/// <param name="UpdatedAt">When its definition last changed.</param>
internal sealed record ScheduleRecord(
    string Name,
    string? Cron,
    string TimeZone,
    TimeSpan? Every,
    string TemplateJson,
    bool Paused,
    string Overlap,
    string Misfire,
    DateTimeOffset? NextRunAt,
    DateTimeOffset? LastRunAt,
    long? LastTaskId,
    DateTimeOffset UpdatedAt);

/// <summary>Parameters of <see cref="ITaskStore.ScheduleUpsertAsync"/>: the row to write (its last run and task are ignored).</summary>
internal sealed record ScheduleUpsertParams(ScheduleRecord Schedule);

/// <summary>Parameters of <see cref="ITaskStore.SchedulePauseAsync"/>.</summary>
internal sealed record SchedulePauseParams(string Name, bool Paused, DateTimeOffset? NextRunAt, DateTimeOffset Now);

/// <summary>Parameters of <see cref="ITaskStore.ScheduleFireAsync"/>.</summary>
/// <param name="Name">The schedule.</param>
/// <param name="Expected">The tick the caller saw the schedule waiting for: the fence.</param>
/// <param name="Tick">The tick fired (the expected one, or a later one a misfire policy chose).</param>
/// <param name="NextRunAt">The tick to wait for next.</param>
/// <param name="Task">The tick's task, with its schedule and tick set; null to move on without one (a skipped misfire).</param>
/// <param name="SkipWhileUnfinished">Make no task while the schedule's previous task is queued, scheduled or running.</param>
internal sealed record ScheduleFireParams(string Name, DateTimeOffset Expected, DateTimeOffset Tick, DateTimeOffset? NextRunAt, NewTask? Task, bool SkipWhileUnfinished);

/// <summary>What <see cref="ITaskStore.ScheduleFireAsync"/> did.</summary>
internal enum ScheduleFireOutcome
{
    /// <summary>It moved on and made the tick's task.</summary>
    Fired,

    /// <summary>It moved on without a task (the previous one is unfinished, or no task was asked for).</summary>
    Skipped,

    /// <summary>Nothing: the schedule is gone, paused, or already past that tick (another node fired it).</summary>
    Lost,
}

/// <summary>The result of <see cref="ITaskStore.ScheduleFireAsync"/>: the outcome, the task made, and the row after.</summary>
internal sealed record ScheduleFireResult(ScheduleFireOutcome Outcome, TaskRecord? Task, ScheduleRecord? Schedule);
