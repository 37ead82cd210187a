using System.Globalization;
using Microsoft.Data.Sqlite;

namespace TaskSystem.Storage.Sqlite;

/// <summary>
/// Keeps the write-ahead log small enough that it never takes the space the database file needs to take its pages
/// back. SQLite's automatic checkpoint copies the WAL into the database once it holds a number of pages, then reuses
/// the file from its start; a checkpoint that would grow the database fails on a full disk, and the WAL can then only
/// grow. So the budget is sized for the volume (<see cref="SqliteVolume"/>), the file is cut back to the budget
/// whenever it is reset, and the writer runs a TRUNCATE checkpoint (the WAL emptied, its file cut to zero) when it
/// goes idle, after a failed write, and at start.
/// </summary>
internal static class SqliteWal
{
    /// <summary>Sets the checkpoint threshold (in pages) and the size the WAL file is cut back to at each reset.</summary>
    public static void ApplyBudget(SqliteConnection connection, long budgetBytes)
    {
        var pageSize = Scalar(connection, "PRAGMA page_size");
        var pages = Math.Max(1, budgetBytes / Math.Max(512, pageSize));
        Scalar(connection, FormattableString.Invariant($"PRAGMA wal_autocheckpoint = {pages}"));
        Scalar(connection, FormattableString.Invariant($"PRAGMA journal_size_limit = {budgetBytes}"));
    }

    /// <summary>
    /// Copies the whole WAL into the database and cuts its file to zero bytes. Waits at most
    /// <paramref name="busyTimeoutMs"/> for readers still on older snapshots: true when done, false when readers held it
    /// (it is tried again later). Throws when it cannot write (a full disk: the database must grow to take the WAL's pages).
    /// </summary>
    public static bool TryTruncate(SqliteConnection connection, int busyTimeoutMs)
    {
        var previous = Scalar(connection, "PRAGMA busy_timeout");
        Scalar(connection, FormattableString.Invariant($"PRAGMA busy_timeout = {busyTimeoutMs}"));
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            using var reader = command.ExecuteReader();

            // One row: busy (1 when readers or a writer kept it from finishing), WAL frames, frames checkpointed.
            return reader.Read() && reader.GetInt64(0) == 0;
        }
        finally
        {
            Scalar(connection, FormattableString.Invariant($"PRAGMA busy_timeout = {previous}"));
        }
    }

    private static long Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar() ?? 0L, CultureInfo.InvariantCulture);
    }
}
