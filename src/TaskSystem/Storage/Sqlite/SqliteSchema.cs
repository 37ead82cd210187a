using Microsoft.Data.Sqlite;

namespace TaskSystem.Storage.Sqlite;

/// <summary>Versioned migrations, applied in order, each in its own transaction.</summary>
internal static class SqliteSchema
{
    private static readonly string[] Migrations =
    [
        // 1: tasks and nodes.
        """
        CREATE TABLE tasks (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            type TEXT NOT NULL,
            queue TEXT NOT NULL,
            priority INTEGER NOT NULL,
            payload TEXT NOT NULL,
            state TEXT NOT NULL,
            attempt INTEGER NOT NULL DEFAULT 0,
            max_attempts INTEGER NOT NULL,
            timeout_ms INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            run_at INTEGER NOT NULL,
            started_at INTEGER,
            finished_at INTEGER,
            result TEXT,
            error TEXT,
            errors TEXT,
            node TEXT,
            claim_id INTEGER,
            lease_expires_at INTEGER,
            stop_requested INTEGER NOT NULL DEFAULT 0,
            trace_parent TEXT
        );
        -- The queue, per type: a claim seeks each type it handles, so queued tasks of other types cost it nothing.
        -- Only queued tasks are in it, so it stays small when work keeps up.
        CREATE INDEX tasks_queued ON tasks (type, priority, run_at, id) WHERE state = 'queued';
        -- Tasks waiting for a time: each claim promotes the due ones to queued with one seek.
        CREATE INDEX tasks_scheduled ON tasks (run_at) WHERE state = 'scheduled';
        -- Listing and counting by state, newest first; also finds the (few) running tasks.
        CREATE INDEX tasks_state ON tasks (state, id);
        CREATE TABLE nodes (
            name TEXT PRIMARY KEY,
            started_at INTEGER NOT NULL,
            heartbeat_at INTEGER NOT NULL,
            concurrency INTEGER NOT NULL,
            busy INTEGER NOT NULL
        ) WITHOUT ROWID;
        """,

        // 2: finished tasks by time, for retention and throughput history.
        """
        CREATE INDEX tasks_finished ON tasks (finished_at) WHERE finished_at IS NOT NULL;
        """,
    ];

    public static int LatestVersion => Migrations.Length;

    public static void Migrate(SqliteConnection connection)
    {
        using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)";
            create.ExecuteNonQuery();
        }

        var current = CurrentVersion(connection);
        if (current > Migrations.Length)
        {
            throw new InvalidOperationException(
                $"The database has schema version {current}, newer than this TaskSystem knows ({Migrations.Length}). Upgrade TaskSystem.");
        }

        for (var version = current + 1; version <= Migrations.Length; version++)
        {
            using var transaction = connection.BeginTransaction(deferred: false);
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = Migrations[version - 1] + "; DELETE FROM schema_version; INSERT INTO schema_version VALUES (" + version + ");";
            command.ExecuteNonQuery();
            transaction.Commit();
        }
    }

    private static int CurrentVersion(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_version";
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
