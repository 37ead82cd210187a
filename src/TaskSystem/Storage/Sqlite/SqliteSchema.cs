using Microsoft.Data.Sqlite;

namespace TaskSystem.Storage.Sqlite;

/// <summary>Versioned migrations, applied in order, each in its own transaction.</summary>
internal static class SqliteSchema
{
    /// <summary>
    /// Fills the counters of migration 3 from the rows: what they would hold had they been kept all along (the ring
    /// from the finish times of the last two hours before the newest). Only a database written without this store
    /// (the migration itself, or test data inserted by hand) needs it. Declared before the migrations, which use it:
    /// static fields are set in the order they are written.
    /// </summary>
    internal static readonly string RecountSql = $"""
        DELETE FROM task_counts;
        INSERT INTO task_counts (queue, state, count)
            SELECT queue, state, COUNT(*) FROM tasks WHERE state IN ('succeeded', 'failed', 'cancelled') GROUP BY queue, state;
        DELETE FROM task_throughput;
        INSERT INTO task_throughput (slot, state, minute, count)
            SELECT (finished_at / 60000) % {TasksFinishedHistogramParams.MinutesKept}, state, finished_at / 60000, COUNT(*) FROM tasks
            WHERE finished_at IS NOT NULL AND state IN ('succeeded', 'failed', 'cancelled')
              AND finished_at >= ((SELECT MAX(finished_at) FROM tasks WHERE finished_at IS NOT NULL) / 60000 - {TasksFinishedHistogramParams.MinutesKept - 1}) * 60000
            GROUP BY finished_at / 60000, state;
        """;

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

        // 3: counting without reading history (SqliteTaskStore.Counts.cs). The (state, id) index also carries the queue,
        // so unfinished tasks are counted per queue from the index alone, never from their rows (which lie anywhere in
        // the table); listing by state still walks it by id. Counters of finished tasks, which every write that moves a
        // task into or out of a final state updates in its own transaction: task_counts per queue and final state;
        // task_throughput, tasks that reached each final state per minute, a ring of one slot per minute of the last two
        // hours (slot = minute % 120).
        $"""
        DROP INDEX tasks_state;
        CREATE INDEX tasks_state ON tasks (state, id, queue);
        CREATE TABLE task_counts (
            queue TEXT NOT NULL,
            state TEXT NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (queue, state)
        ) WITHOUT ROWID;
        CREATE TABLE task_throughput (
            slot INTEGER NOT NULL,
            state TEXT NOT NULL,
            minute INTEGER NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (slot, state)
        ) WITHOUT ROWID;
        {RecountSql}
        """,

        // 4: unique tasks. An idempotency key, and the schedule tick a task was made for, are each unique among the
        // kept tasks: a second insert of either adds nothing (SqliteTaskStore.TasksInsertAsync), so a race of two
        // enqueues, or of two schedulers at one tick, resolves here. Partial: tasks without them cost the indexes nothing.
        """
        ALTER TABLE tasks ADD COLUMN idempotency_key TEXT;
        ALTER TABLE tasks ADD COLUMN schedule TEXT;
        ALTER TABLE tasks ADD COLUMN scheduled_for INTEGER;
        CREATE UNIQUE INDEX tasks_key ON tasks (idempotency_key) WHERE idempotency_key IS NOT NULL;
        CREATE UNIQUE INDEX tasks_schedule_tick ON tasks (schedule, scheduled_for) WHERE schedule IS NOT NULL;
        """,

        // 5: recurring schedules (SqliteTaskStore.Schedules.cs). next_run_at is the tick a schedule waits for: firing
        // moves it on only where it still holds the tick the firing node saw, the fence of a tick.
        """
        CREATE TABLE schedules (
            name TEXT PRIMARY KEY,
            cron TEXT,
            time_zone TEXT NOT NULL,
            every_ms INTEGER,
            template TEXT NOT NULL,
            paused INTEGER NOT NULL,
            overlap TEXT NOT NULL,
            misfire TEXT NOT NULL,
            next_run_at INTEGER,
            last_run_at INTEGER,
            last_task_id INTEGER,
            updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        """,

        // 6: progress (SqliteTaskStore.Progress.cs), one row per task that reported any, kept beside the task rather
        // than in it so that a progress write never touches the task's row or its indexes. It goes when its task goes.
        """
        CREATE TABLE task_progress (
            task_id INTEGER PRIMARY KEY,
            attempt INTEGER NOT NULL,
            percent REAL NOT NULL,
            message TEXT,
            at INTEGER NOT NULL
        );
        CREATE TRIGGER task_progress_deleted AFTER DELETE ON tasks BEGIN
            DELETE FROM task_progress WHERE task_id = old.id;
        END;
        """,

        // 7: paused queues (SqliteTaskStore.Queues.cs): a row while the queue is paused; every claim reads it.
        """
        CREATE TABLE queue_pauses (
            queue TEXT PRIMARY KEY,
            paused_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        """,

        // 8: continuations (SqliteTaskStore.Continuations.cs): a task's parents, one row per link, with the policy of the
        // link. Looked up by parent when a task finishes (its awaiting children are settled in that transaction), by
        // child when a child is settled or reads its parents' results. They go when their child goes.
        """
        CREATE TABLE task_parents (
            child_id INTEGER NOT NULL,
            parent_id INTEGER NOT NULL,
            any_outcome INTEGER NOT NULL,
            PRIMARY KEY (child_id, parent_id)
        ) WITHOUT ROWID;
        CREATE INDEX task_parents_parent ON task_parents (parent_id, child_id);
        CREATE TRIGGER task_parents_deleted AFTER DELETE ON tasks BEGIN
            DELETE FROM task_parents WHERE child_id = old.id;
        END;
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
