using Microsoft.Extensions.Logging;

namespace TaskSystem.Storage.Sqlite;

/// <summary>The SQLite store's log lines, source-generated, with stable event ids (the store's use 101 to 199).</summary>
internal static partial class SqliteLog
{
    [LoggerMessage(101, LogLevel.Error, "The SQLite writer failed outside any operation; the batch's {Count} callers get a 503 and the writer goes on")]
    public static partial void WriterFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(102, LogLevel.Warning, "The SQLite writer's connection could not be reopened; the next write tries again")]
    public static partial void ReopenFailed(ILogger logger, Exception exception);

    [LoggerMessage(103, LogLevel.Information, "The SQLite writer's connection was reopened")]
    public static partial void Reopened(ILogger logger);

    [LoggerMessage(104, LogLevel.Warning, "Checkpointing the SQLite WAL failed; it is tried again at least every {Interval} until it succeeds")]
    public static partial void CheckpointFailed(ILogger logger, TimeSpan interval, Exception exception);

    [LoggerMessage(105, LogLevel.Information, "The SQLite WAL was checkpointed and truncated after {Attempts} failed attempts")]
    public static partial void CheckpointRecovered(ILogger logger, int attempts);

    [LoggerMessage(106, LogLevel.Warning, "A SQLite operation failed after its statement changed rows; the transaction is run again without it")]
    public static partial void OperationFailedAfterChanges(ILogger logger, Exception exception);

    [LoggerMessage(107, LogLevel.Warning, "Checkpointing the SQLite WAL at start failed; the store opens anyway")]
    public static partial void StartCheckpointFailed(ILogger logger, Exception exception);

    [LoggerMessage(108, LogLevel.Warning, "New tasks are refused until there is room: {Reason}")]
    public static partial void NewTasksRefused(ILogger logger, string reason);

    [LoggerMessage(109, LogLevel.Information, "There is room for new tasks again; they are accepted")]
    public static partial void NewTasksAccepted(ILogger logger);
}
