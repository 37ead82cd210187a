using Microsoft.Data.Sqlite;

namespace TaskSystem.Storage.Sqlite;

/// <summary>What the store tells about its writes, and what it does at start so that a nearly full disk does not stop it.</summary>
internal sealed partial class SqliteTaskStore
{
    /// <summary>Told of every failed commit. The host shares its own (readiness reads it); a store opened alone has its own.</summary>
    internal WriteHealth WriteHealth { get; init; } = new(TimeProvider.System);

    /// <summary>Counts the writer's commits and the writes they carried; none for a store opened alone.</summary>
    internal SqliteCommitMetrics? CommitMetrics { get; init; }

    /// <summary>
    /// Runs on each writer connection after its pragmas, before any write: for tests that set SQLite's own limits
    /// (<c>PRAGMA max_page_count</c> stands for a full disk, <c>SQLITE_LIMIT_LENGTH</c> for a value SQLite refuses).
    /// </summary>
    internal Action<SqliteConnection>? ConfigureWriterConnection { get; init; }

    /// <summary>
    /// A crash, or a shutdown on a full disk, can leave a large WAL behind, and start-up writes (recovery, the node's
    /// row) would append to it. Emptying it into the database first gives its space back; when that fails (no room
    /// for the database to grow), the store opens anyway and the writer tries again after its first failure.
    /// </summary>
    private void CheckpointAtStart(SqliteConnection connection)
    {
        try
        {
            SqliteWal.TryTruncate(connection, busyTimeoutMs: 1000);
        }
        catch (SqliteException exception) when (SqliteErrors.IsEnvironmental(exception))
        {
            SqliteLog.StartCheckpointFailed(_logger, exception);
        }
    }
}
