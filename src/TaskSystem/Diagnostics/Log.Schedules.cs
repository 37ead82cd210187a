using Microsoft.Extensions.Logging;

namespace TaskSystem.Diagnostics;

/// <summary>The scheduler's log lines (event ids 140 to 149).</summary>
internal static partial class Log
{
    [LoggerMessage(140, LogLevel.Information, "Schedule {Schedule} tick {Tick:O}: task {TaskId} enqueued")]
    public static partial void ScheduleFired(ILogger logger, string schedule, DateTimeOffset tick, long taskId);

    [LoggerMessage(141, LogLevel.Information, "Schedule {Schedule} tick {Tick:O}: no task ({Reason})")]
    public static partial void ScheduleTickSkipped(ILogger logger, string schedule, DateTimeOffset tick, string reason);

    [LoggerMessage(142, LogLevel.Warning, "Schedule {Schedule}: its task template no longer passes ({Reason}); ticks go by without a task until it is fixed")]
    public static partial void ScheduleTemplateInvalid(ILogger logger, string schedule, string reason);

    [LoggerMessage(143, LogLevel.Warning, "The scheduler could not read or fire schedules; it tries again shortly")]
    public static partial void SchedulerFailed(ILogger logger, Exception exception);

    [LoggerMessage(144, LogLevel.Information, "Schedule {Schedule} declared: next tick {NextRunAt:O}")]
    public static partial void ScheduleDeclared(ILogger logger, string schedule, DateTimeOffset? nextRunAt);

    [LoggerMessage(145, LogLevel.Warning, "Schedule {Schedule} tick {Tick:O}: no task, the queue is full (about {Waiting} tasks wait, TaskSystem:MaxQueued is {MaxQueued}); the schedule goes on to its next tick")]
    public static partial void ScheduleTickQueueFull(ILogger logger, string schedule, DateTimeOffset tick, long waiting, int maxQueued);
}
