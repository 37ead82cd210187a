using Npgsql;

namespace TaskSystem.PostgreSql;

/// <summary>
/// Versioned migrations, applied in order in one transaction under an advisory lock, so that nodes starting at the
/// same moment take turns: the first migrates, the others find the schema current.
/// </summary>
/// <remarks>
/// Payloads and results are <c>text</c>, not <c>jsonb</c>: the API has already checked that they are JSON, the store
/// never looks inside them, and text keeps them byte for byte as sent, costs no parsing on the insert path, and
/// accepts the <c>\u0000</c> escape that jsonb refuses. The error history is <c>jsonb</c> because the store appends to it.
/// </remarks>
internal static class PostgresSchema
{
    /// <summary>The advisory lock key of migrations (any constant: "TaskSyst" in ASCII).</summary>
    private const long MigrationLock = 0x5461736B53797374;

    private static readonly string[] Migrations =
    [
        // 1: tasks and nodes.
        """
        CREATE TABLE tasksystem_tasks (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            type text NOT NULL,
            queue text NOT NULL,
            priority integer NOT NULL,
            payload text NOT NULL,
            state text NOT NULL CHECK (state IN ('queued', 'scheduled', 'running', 'succeeded', 'failed', 'cancelled')),
            attempt integer NOT NULL DEFAULT 0,
            max_attempts integer NOT NULL,
            timeout_ms bigint NOT NULL,
            created_at timestamptz NOT NULL,
            run_at timestamptz NOT NULL,
            started_at timestamptz,
            finished_at timestamptz,
            result text,
            error text,
            errors jsonb,
            node text,
            claim_id bigint,
            lease_expires_at timestamptz,
            stop_requested boolean NOT NULL DEFAULT false,
            trace_parent text
        );
        -- The queue, per type: a claim seeks each type it handles, so queued tasks of other types cost it nothing.
        -- Only queued tasks are in it, so it stays small when work keeps up.
        CREATE INDEX tasksystem_tasks_queued ON tasksystem_tasks (type, priority, run_at, id) WHERE state = 'queued';
        -- Tasks waiting for a time: each claim promotes the due ones to queued with one range scan.
        CREATE INDEX tasksystem_tasks_scheduled ON tasksystem_tasks (run_at) WHERE state = 'scheduled';
        -- Running tasks by node: heartbeats, stop polls and rescues.
        CREATE INDEX tasksystem_tasks_running ON tasksystem_tasks (node, lease_expires_at) WHERE state = 'running';
        -- Listing and counting by state, newest first.
        CREATE INDEX tasksystem_tasks_state ON tasksystem_tasks (state, id);
        -- Finished tasks by time: retention and throughput history.
        CREATE INDEX tasksystem_tasks_finished ON tasksystem_tasks (finished_at) WHERE finished_at IS NOT NULL;
        CREATE TABLE tasksystem_nodes (
            name text PRIMARY KEY,
            started_at timestamptz NOT NULL,
            heartbeat_at timestamptz NOT NULL,
            concurrency integer NOT NULL,
            busy integer NOT NULL
        );
        """,

        // 2: counting without reading history. The (state, id) index also carries the queue, so unfinished tasks are
        // counted per queue from the index alone, not from their rows (which lie anywhere in the table); listing by state
        // still walks it by id. Finished tasks are counted by counters the database keeps itself (PostgresCounters), so
        // that every writer is counted: any node, of any version.
        """
        DROP INDEX tasksystem_tasks_state;
        CREATE INDEX tasksystem_tasks_state ON tasksystem_tasks (state, id) INCLUDE (queue);
        """ + PostgresCounters.Migration,

        // 3: unique tasks. An idempotency key, and the schedule tick a task was made for, are each unique among the
        // kept tasks: a second insert of either adds nothing (ON CONFLICT DO NOTHING waits for a racing insert of the
        // same key to commit or roll back), so a race of two enqueues, or of two nodes at one tick, resolves here.
        """
        ALTER TABLE tasksystem_tasks ADD COLUMN idempotency_key text, ADD COLUMN schedule text, ADD COLUMN scheduled_for timestamptz;
        CREATE UNIQUE INDEX tasksystem_tasks_key ON tasksystem_tasks (idempotency_key) WHERE idempotency_key IS NOT NULL;
        CREATE UNIQUE INDEX tasksystem_tasks_schedule_tick ON tasksystem_tasks (schedule, scheduled_for) WHERE schedule IS NOT NULL;
        """,

        // 4: recurring schedules (PostgresTaskStore.Schedules.cs). next_run_at is the tick a schedule waits for: firing
        // moves it on only where it still holds the tick the firing node saw, the fence of a tick between nodes.
        """
        CREATE TABLE tasksystem_schedules (
            name text PRIMARY KEY,
            cron text,
            time_zone text NOT NULL,
            every_ms bigint,
            template text NOT NULL,
            paused boolean NOT NULL,
            overlap text NOT NULL,
            misfire text NOT NULL,
            next_run_at timestamptz,
            last_run_at timestamptz,
            last_task_id bigint,
            updated_at timestamptz NOT NULL
        );
        """,

        // 5: progress (PostgresTaskStore.Progress.cs), one row per task that reported any, kept beside the task rather
        // than in it so that a progress write never rewrites the task's row or its indexes. It goes when its task goes:
        // a statement-level trigger (one call per DELETE, not per row) rather than a foreign key, whose check would
        // lock the task row against the rescuer's FOR UPDATE at every progress write.
        """
        CREATE TABLE tasksystem_progress (
            task_id bigint PRIMARY KEY,
            attempt integer NOT NULL,
            percent double precision NOT NULL,
            message text,
            at timestamptz NOT NULL
        );
        CREATE FUNCTION tasksystem_progress_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM tasksystem_progress AS p USING gone WHERE p.task_id = gone.id;
            RETURN NULL;
        END $$;
        CREATE TRIGGER tasksystem_progress_deleted AFTER DELETE ON tasksystem_tasks
            REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION tasksystem_progress_deleted();
        """,

        // 6: paused queues (PostgresTaskStore.Queues.cs): a row while the queue is paused; every claim reads it.
        """
        CREATE TABLE tasksystem_queue_pauses (
            queue text PRIMARY KEY,
            paused_at timestamptz NOT NULL
        );
        """,

        // 7: continuations (PostgresTaskStore.Continuations.cs): a new state, awaiting (the check is replaced NOT VALID:
        // the rows there already pass the narrower one, so none is read), and a task's parents, one row per link with
        // the link's policy, looked up by parent when a task finishes and by child when it is settled. They go when
        // their child goes (a statement-level trigger, as for progress).
        """
        ALTER TABLE tasksystem_tasks DROP CONSTRAINT tasksystem_tasks_state_check;
        ALTER TABLE tasksystem_tasks ADD CONSTRAINT tasksystem_tasks_state_check
            CHECK (state IN ('awaiting', 'queued', 'scheduled', 'running', 'succeeded', 'failed', 'cancelled')) NOT VALID;
        CREATE TABLE tasksystem_task_parents (
            child_id bigint NOT NULL,
            parent_id bigint NOT NULL,
            any_outcome boolean NOT NULL,
            PRIMARY KEY (child_id, parent_id)
        );
        CREATE INDEX tasksystem_task_parents_parent ON tasksystem_task_parents (parent_id, child_id);
        CREATE FUNCTION tasksystem_task_parents_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM tasksystem_task_parents AS l USING gone WHERE l.child_id = gone.id;
            RETURN NULL;
        END $$;
        CREATE TRIGGER tasksystem_task_parents_deleted AFTER DELETE ON tasksystem_tasks
            REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION tasksystem_task_parents_deleted();
        """,

        // 8: the settling of continuations as one server-side call (PostgresTaskStore.Continuations.cs), so that a
        // finishing write and its settling travel in one round trip. Each statement of a VOLATILE function takes its
        // own snapshot under READ COMMITTED, as separate statements from the client did: children are locked first,
        // then their parents are read as committed after those locks were granted.
        """
        CREATE FUNCTION tasksystem_settle(parent_ids bigint[], child_ids bigint[], at_time timestamptz, notify_channel text, notify_node text)
        RETURNS integer LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            parents bigint[] := parent_ids;
            children bigint[] := child_ids;
            released integer := 0;
            queued boolean := false;
            locked bigint[];
            cancelled bigint[];
        BEGIN
            LOOP
                IF cardinality(parents) > 0 THEN
                    -- In id order, so that two writers never lock shared children in opposite orders.
                    SELECT array_agg(k.id) INTO locked FROM (
                        SELECT id FROM tasksystem_tasks
                        WHERE id IN (SELECT child_id FROM tasksystem_task_parents WHERE parent_id = ANY(parents)) AND state = 'awaiting'
                        ORDER BY id
                        FOR UPDATE) AS k;
                    children := children || COALESCE(locked, '{}');
                END IF;
                EXIT WHEN cardinality(children) = 0;

                -- All-succeeded children with a parent that failed or was cancelled: cancelled, naming the lowest such parent.
                WITH blocked AS (
                    SELECT DISTINCT ON (l.child_id) l.child_id, p.id AS parent, p.state AS parent_state
                    FROM tasksystem_task_parents AS l JOIN tasksystem_tasks AS p ON p.id = l.parent_id
                    WHERE l.child_id = ANY(children) AND NOT l.any_outcome AND p.state IN ('failed', 'cancelled')
                    ORDER BY l.child_id, p.id),
                done AS (
                    UPDATE tasksystem_tasks AS t SET state = 'cancelled', finished_at = at_time,
                        error = 'parent task ' || b.parent || CASE b.parent_state WHEN 'failed' THEN ' failed' ELSE ' was cancelled' END
                    FROM blocked AS b
                    WHERE t.id = b.child_id AND t.state = 'awaiting'
                    RETURNING t.id)
                SELECT array_agg(id) INTO cancelled FROM done;

                -- Children no parent holds back any more: queued (or scheduled).
                WITH done AS (
                    UPDATE tasksystem_tasks AS t SET state = CASE WHEN t.run_at > at_time THEN 'scheduled' ELSE 'queued' END
                    WHERE t.id = ANY(children) AND t.state = 'awaiting'
                      AND NOT EXISTS (
                        SELECT 1 FROM tasksystem_task_parents AS l JOIN tasksystem_tasks AS p ON p.id = l.parent_id
                        WHERE l.child_id = t.id
                          AND (p.state NOT IN ('succeeded', 'failed', 'cancelled') OR (NOT l.any_outcome AND p.state <> 'succeeded')))
                    RETURNING t.state)
                SELECT released + count(*), queued OR COALESCE(bool_or(state = 'queued'), false) INTO released, queued FROM done;

                -- The cancelled children's own children are settled next (a cancel cascades).
                parents := COALESCE(cancelled, '{}');
                children := '{}';
            END LOOP;

            IF queued THEN
                PERFORM pg_notify(notify_channel, notify_node);
            END IF;

            RETURN released;
        END $$;
        """,
    ];

    public static int LatestVersion => Migrations.Length;

    public static async Task MigrateAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, $"SELECT pg_advisory_xact_lock({MigrationLock})", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, "CREATE TABLE IF NOT EXISTS tasksystem_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())", cancellationToken)
            .ConfigureAwait(false);

        await using (var read = new NpgsqlCommand("SELECT COALESCE(MAX(version), 0) FROM tasksystem_migrations", connection))
        {
            var current = Convert.ToInt32(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
            if (current > Migrations.Length)
            {
                throw new InvalidOperationException(
                    $"The database has TaskSystem schema version {current}, newer than this TaskSystem knows ({Migrations.Length}). Upgrade TaskSystem.");
            }

            for (var version = current + 1; version <= Migrations.Length; version++)
            {
                await ExecuteAsync(connection, Migrations[version - 1], cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, $"INSERT INTO tasksystem_migrations (version) VALUES ({version})", cancellationToken).ConfigureAwait(false);
            }
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
