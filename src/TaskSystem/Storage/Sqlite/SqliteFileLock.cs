namespace TaskSystem.Storage.Sqlite;

/// <summary>
/// Holds an exclusive lock on a file beside the database for the life of the store. SQLite serves one
/// TaskSystem process: a second one on the same file would re-run the first one's tasks as crash leftovers.
/// </summary>
internal sealed class SqliteFileLock : IDisposable
{
    private readonly FileStream _stream;

    private SqliteFileLock(FileStream stream) => _stream = stream;

    public static SqliteFileLock Acquire(string databasePath)
    {
        var lockPath = databasePath + ".lock";
        try
        {
            // On Unix, FileShare.None takes an advisory flock that another process cannot take too.
            return new SqliteFileLock(new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException exception)
        {
            throw new InvalidOperationException(
                $"The database '{databasePath}' is in use by another TaskSystem process. SQLite serves one process; " +
                "give each process its own database, or use PostgreSQL (TaskSystem:Provider=postgres) to run several nodes on one queue.",
                exception);
        }
    }

    public void Dispose() => _stream.Dispose();
}
