using Microsoft.Extensions.Logging;

namespace TaskSystem.Diagnostics;

/// <summary>Every log line TaskSystem writes, source-generated, with stable event ids.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Task {TaskId} ({TaskType}) attempt {Attempt} started")]
    public static partial void TaskStarted(ILogger logger, long taskId, string taskType, int attempt);

    [LoggerMessage(2, LogLevel.Information, "Task {TaskId} ({TaskType}) attempt {Attempt} finished in {DurationMs:0.0} ms: {Outcome}")]
    public static partial void TaskFinished(ILogger logger, long taskId, string taskType, int attempt, double durationMs, string outcome);

    [LoggerMessage(3, LogLevel.Warning, "Task {TaskId} ({TaskType}) attempt {Attempt} ignored cancellation ({Reason}) for {GracePeriod}; its worker slot is freed and the handler is abandoned")]
    public static partial void TaskAbandoned(ILogger logger, long taskId, string taskType, int attempt, string reason, TimeSpan gracePeriod);

    [LoggerMessage(4, LogLevel.Warning, "Task {TaskId} attempt outcome {Outcome} was not written: the task is no longer running under this node's claim (stopped, rescued or retried elsewhere)")]
    public static partial void CompletionFenced(ILogger logger, long taskId, string outcome);

    [LoggerMessage(5, LogLevel.Error, "Claiming tasks failed; the dispatcher tries again after a pause")]
    public static partial void ClaimFailed(ILogger logger, Exception exception);

    [LoggerMessage(6, LogLevel.Error, "Writing {Count} task outcomes failed; they are kept and written again")]
    public static partial void CompleteFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(7, LogLevel.Warning, "Task {TaskId} was taken back from lost node {Node}: now {State}")]
    public static partial void TaskRescued(ILogger logger, long taskId, string? node, string state);

    [LoggerMessage(8, LogLevel.Error, "{Service} failed; it runs again in {Interval}")]
    public static partial void MaintenanceFailed(ILogger logger, string service, TimeSpan interval, Exception exception);

    [LoggerMessage(9, LogLevel.Error, "A SQLite transaction of {Count} operations failed; its callers get the error")]
    public static partial void StoreBatchFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(10, LogLevel.Information, "TaskSystem node {Node} started: {Concurrency} workers, handlers [{Types}], store {Store}")]
    public static partial void EngineStarted(ILogger logger, string node, int concurrency, string types, string store);

    [LoggerMessage(11, LogLevel.Information, "TaskSystem node {Node} stopping: {Running} tasks running, waiting up to {Timeout} for them")]
    public static partial void EngineStopping(ILogger logger, string node, int running, TimeSpan timeout);

    [LoggerMessage(12, LogLevel.Warning, "Shutdown timeout reached: cancelling {Running} running tasks; they go back to the queue")]
    public static partial void ShutdownCancelling(ILogger logger, int running);

    [LoggerMessage(13, LogLevel.Information, "TaskSystem node {Node} stopped")]
    public static partial void EngineStopped(ILogger logger, string node);

    [LoggerMessage(14, LogLevel.Warning, "Recovered {Count} tasks left running by a previous run of this node")]
    public static partial void TasksRecovered(ILogger logger, int count);

    [LoggerMessage(15, LogLevel.Warning, "Writing task outcomes failed at shutdown; {Count} tasks stay running in the store and are recovered at the next start")]
    public static partial void CompletionsAbandonedAtShutdown(ILogger logger, int count, Exception exception);

    [LoggerMessage(16, LogLevel.Information, "Retention deleted {Count} tasks finished before {Cutoff:O} in {DurationMs:0.0} ms")]
    public static partial void RetentionDeleted(ILogger logger, int count, DateTimeOffset cutoff, double durationMs);

    [LoggerMessage(17, LogLevel.Warning, "Disposing the services of task {TaskId}'s attempt failed")]
    public static partial void ScopeDisposeFailed(ILogger logger, long taskId, Exception exception);
}
