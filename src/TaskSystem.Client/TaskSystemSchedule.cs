using System.Text.Json;

namespace TaskSystem.Client;

/// <summary>A recurring schedule as the server shows it: its definition and where it stands.</summary>
/// <param name="Name">Its name.</param>
/// <param name="Cron">Its cron expression, or null for an interval.</param>
/// <param name="TimeZone">The time zone its cron expression reads in.</param>
/// <param name="Every">Its interval (<c>hh:mm:ss</c>), or null for a cron expression.</param>
/// <param name="Type">The type of the tasks it enqueues.</param>
/// <param name="Payload">Their payload, or null.</param>
/// <param name="Queue">Their queue, or null for the default.</param>
/// <param name="Priority">Their priority, or null for the default.</param>
/// <param name="MaxAttempts">Their attempts, or null for the default.</param>
/// <param name="TimeoutSeconds">Their timeout, or null for the default.</param>
/// <param name="Paused">Whether its ticks are paused.</param>
/// <param name="Overlap"><c>allow</c>, or <c>skip</c>: no tick while its last task is unfinished.</param>
/// <param name="Misfire"><c>skip</c> or <c>runOnce</c>: what ticks missed while no node ran become.</param>
/// <param name="NextRunAt">Its next tick, or null.</param>
/// <param name="LastRunAt">Its last tick, or null.</param>
/// <param name="LastTaskId">The task its last tick enqueued, or null.</param>
/// <param name="LastTaskState">That task's state, or null.</param>
/// <param name="UpdatedAt">When its definition last changed.</param>
public sealed record TaskSystemSchedule(
    string Name,
    string? Cron,
    string TimeZone,
    string? Every,
    string Type,
    JsonElement? Payload,
    string? Queue,
    int? Priority,
    int? MaxAttempts,
    double? TimeoutSeconds,
    bool Paused,
    string Overlap,
    string Misfire,
    DateTimeOffset? NextRunAt,
    DateTimeOffset? LastRunAt,
    long? LastTaskId,
    string? LastTaskState,
    DateTimeOffset UpdatedAt);

/// <summary>A schedule's definition for <see cref="TaskSystemClient.PutScheduleAsync"/>: a cron expression or an interval, and the task to enqueue.</summary>
public sealed record TaskSystemScheduleDefinition
{
    /// <summary>A cron expression (five fields, or six with seconds); give this or <see cref="Every"/>.</summary>
    public string? Cron { get; init; }

    /// <summary>The time zone <see cref="Cron"/> reads in (an IANA name; default UTC).</summary>
    public string? TimeZone { get; init; }

    /// <summary>An interval between ticks; give this or <see cref="Cron"/>.</summary>
    public TimeSpan? Every { get; init; }

    /// <summary>The type of the tasks it enqueues.</summary>
    public string? Type { get; init; }

    /// <summary>Their payload, serialized as JSON with web defaults (camelCase).</summary>
    public object? Payload { get; init; }

    /// <summary>Their queue.</summary>
    public string? Queue { get; init; }

    /// <summary>Their priority.</summary>
    public int? Priority { get; init; }

    /// <summary>Their attempts.</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>Their timeout.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Whether it starts paused.</summary>
    public bool? Paused { get; init; }

    /// <summary><c>allow</c> or <c>skip</c>.</summary>
    public string? Overlap { get; init; }

    /// <summary><c>skip</c> or <c>runOnce</c>.</summary>
    public string? Misfire { get; init; }
}
