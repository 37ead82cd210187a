using Microsoft.Extensions.Logging;

namespace TaskSystem.Diagnostics;

/// <summary>The external worker protocol's log lines (event ids 101 to 120).</summary>
internal static partial class Log
{
    [LoggerMessage(41, LogLevel.Information, "Task {TaskId} ({TaskType}) attempt {Attempt} claimed by external worker {Worker}")]
    public static partial void TaskClaimedByWorker(ILogger logger, long taskId, string taskType, int attempt, string worker);

    [LoggerMessage(42, LogLevel.Information, "Task {TaskId}: external worker {Worker} reported it {State}")]
    public static partial void TaskReportedByWorker(ILogger logger, long taskId, string worker, string state);

    [LoggerMessage(43, LogLevel.Information, "Task {TaskId}: a heartbeat or report of external worker {Worker} was refused ({Reason}): its lease no longer holds the task")]
    public static partial void WorkerReportRefused(ILogger logger, long taskId, string worker, string reason);

    [LoggerMessage(44, LogLevel.Warning, "Task {TaskId} was taken back from external worker {Worker}, whose lease ran out: now {State}")]
    public static partial void TaskRescuedFromWorker(ILogger logger, long taskId, string? worker, string state);

    [LoggerMessage(45, LogLevel.Information, "{Count} tasks claimed for external worker {Worker} went back to the queue: it left before the answer")]
    public static partial void WorkerClaimReleased(ILogger logger, int count, string worker);
}
