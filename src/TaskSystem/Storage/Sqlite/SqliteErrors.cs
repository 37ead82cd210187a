using Microsoft.Data.Sqlite;

namespace TaskSystem.Storage.Sqlite;

/// <summary>Tells a broken environment (disk full, I/O error, locked file) from a bad statement.</summary>
internal static class SqliteErrors
{
    public static bool IsEnvironmental(Exception exception) => exception is SqliteException sqlite && (sqlite.SqliteErrorCode & 0xFF) switch
    {
        5 or 6 => true,   // SQLITE_BUSY, SQLITE_LOCKED
        7 => true,        // SQLITE_NOMEM
        8 => true,        // SQLITE_READONLY
        10 or 11 => true, // SQLITE_IOERR, SQLITE_CORRUPT
        13 or 14 => true, // SQLITE_FULL, SQLITE_CANTOPEN
        15 or 26 => true, // SQLITE_PROTOCOL, SQLITE_NOTADB
        _ => false,
    };

    /// <summary>What callers see: an environmental failure becomes "the store is unavailable" (HTTP 503).</summary>
    public static Exception ForCaller(Exception exception) => IsEnvironmental(exception) ? Unavailable(exception) : exception;

    /// <summary>"The store is unavailable" (HTTP 503) whatever the cause: for callers whose write failed with others'.</summary>
    public static TaskStoreUnavailableException Unavailable(Exception exception) =>
        exception as TaskStoreUnavailableException
        ?? new TaskStoreUnavailableException($"The SQLite database cannot be used right now: {exception.Message}", exception);
}
