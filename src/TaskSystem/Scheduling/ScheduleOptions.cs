namespace TaskSystem;

/// <summary>
/// A recurring schedule as configuration (<c>TaskSystem:Schedules:{name}:...</c>) or the library
/// (<see cref="TaskSystemBuilder.AddSchedule(string, string, TimeZoneInfo, TaskRequest)"/>) declares it: when it ticks
/// (<see cref="Cron"/> in <see cref="TimeZone"/>, or <see cref="Every"/>) and the task each tick enqueues.
/// </summary>
public sealed class ScheduleOptions
{
    /// <summary>A cron expression of 5 fields (minute precision) or 6 (seconds first). Set this or <see cref="Every"/>.</summary>
    public string? Cron { get; set; }

    /// <summary>The time zone <see cref="Cron"/> is read in (an IANA id such as <c>Europe/Paris</c>). Default UTC.</summary>
    public string? TimeZone { get; set; }

    /// <summary>A fixed interval, at least one second, its ticks aligned on multiples of it since the Unix epoch. Set this or <see cref="Cron"/>.</summary>
    public TimeSpan? Every { get; set; }

    /// <summary>The type of the task each tick enqueues (required).</summary>
    public string? Type { get; set; }

    /// <summary>The task's payload: a JSON object as text. Default <c>{}</c>.</summary>
    public string? Payload { get; set; }

    /// <summary>The task's queue (default: the type's, else <see cref="TaskSystemOptions.DefaultQueue"/>).</summary>
    public string? Queue { get; set; }

    /// <summary>The task's priority (default: the type's, else 0).</summary>
    public int? Priority { get; set; }

    /// <summary>The task's attempts (default: the type's, else <see cref="TaskSystemOptions.DefaultMaxAttempts"/>).</summary>
    public int? MaxAttempts { get; set; }

    /// <summary>The time one attempt may run, in seconds (default: the type's, else <see cref="TaskSystemOptions.DefaultTimeout"/>).</summary>
    public double? TimeoutSeconds { get; set; }

    /// <summary>A paused schedule enqueues nothing; when resumed it goes on from the next tick. Default false.</summary>
    public bool Paused { get; set; }

    /// <summary>What a tick does while the previous task of the schedule is unfinished. Default <see cref="ScheduleOverlap.Allow"/>.</summary>
    public ScheduleOverlap Overlap { get; set; }

    /// <summary>What happens to ticks missed while no node ran. Default <see cref="ScheduleMisfire.Skip"/>.</summary>
    public ScheduleMisfire Misfire { get; set; }
}

/// <summary>What a tick does while the previous task of its schedule is unfinished (queued, scheduled or running).</summary>
public enum ScheduleOverlap
{
    /// <summary>Enqueue anyway.</summary>
    Allow,

    /// <summary>Enqueue nothing for this tick.</summary>
    Skip,
}

/// <summary>What happens to ticks missed (more than a minute late) because no node ran the scheduler.</summary>
public enum ScheduleMisfire
{
    /// <summary>Drop them: the schedule goes on from the next tick.</summary>
    Skip,

    /// <summary>Enqueue one task, for the latest missed tick, for all of them.</summary>
    RunOnce,
}
