using Microsoft.Extensions.Logging;

namespace TaskSystem.Diagnostics;

/// <summary>Failed attempts: a retry at Warning, the final failure at Error, each with the handler's exception (null for a timeout).</summary>
internal static partial class Log
{
    [LoggerMessage(60, LogLevel.Warning, "Task {TaskId} ({TaskType}) attempt {Attempt} of {MaxAttempts} failed after {DurationMs:0.0} ms; retry at {RetryAt:O}: {Error}")]
    public static partial void TaskAttemptFailed(
        ILogger logger, long taskId, string taskType, int attempt, int maxAttempts, double durationMs, DateTimeOffset? retryAt, string? error, Exception? exception);

    [LoggerMessage(61, LogLevel.Error, "Task {TaskId} ({TaskType}) failed for good on attempt {Attempt} after {DurationMs:0.0} ms: {Error}")]
    public static partial void TaskFailed(ILogger logger, long taskId, string taskType, int attempt, double durationMs, string? error, Exception? exception);
}
