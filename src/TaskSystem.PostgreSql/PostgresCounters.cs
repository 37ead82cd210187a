using TaskSystem.Storage;

namespace TaskSystem.PostgreSql;

/// <summary>
/// Counters of finished tasks (migration 2), kept by the database itself: <c>tasksystem_task_counts</c> holds the
/// finished tasks per queue and final state, <c>tasksystem_task_throughput</c> the finished tasks per minute of their
/// finish over the last two hours (a ring: slot = minute % 120, a later minute takes a slot over). Both count the
/// rows as they are: a retried task leaves its final state and its minute, a deleted one leaves both too.
/// </summary>
/// <remarks>
/// <para>
/// Triggers rather than the store's own statements, because nodes share the table: during an upgrade, nodes of an
/// older version keep finishing tasks next to the first node that migrated, and a counter that only this version's
/// statements kept would miss their writes forever. Whoever changes a row (any node, any version, an operator's
/// SQL), the counters move in the same transaction.
/// </para>
/// <para>
/// Cost: one trigger call per UPDATE or DELETE statement, not per row. It reads the statement's transition tables
/// (the rows it changed, before and after) and leaves at once when none of them is finished, as for claims,
/// promotions and heartbeats; otherwise it runs one upsert per counter table for the whole statement, so a completer
/// batch of any size costs two more statements, run inside the server. They only add up rows (+1 for each row
/// finished after, -1 for each row finished before), never join the two tables: the planner knows nothing of a
/// transition table's size, and a nested loop over two of a thousand rows each costs seconds. Inserts (a task never
/// starts finished) cost a row-level WHEN test only.
/// </para>
/// <para>
/// Concurrency: each counter row has 16 shards, and a statement writes the shard of its connection's backend
/// (<c>pg_backend_pid() % 16</c>), so nodes finishing tasks at the same moment rarely wait on one another's counter
/// row. Readers add the shards up; a shard alone may go negative. Each statement upserts its rows in key order, so
/// two statements never lock the same counter rows in opposite orders.
/// </para>
/// </remarks>
internal static class PostgresCounters
{
    private const string Final = "('succeeded', 'failed', 'cancelled')";
    private const int Shards = 16;
    private const int Slots = TasksFinishedHistogramParams.MinutesKept;

    /// <summary>
    /// An upsert into a throughput slot: a later minute takes the slot over, an earlier one (two hours late) is dropped.
    /// A decrement may leave a shard's slot below zero; the shards add up right.
    /// </summary>
    private const string ThroughputConflict = """
        ON CONFLICT (slot, state, shard) DO UPDATE SET
                count = CASE WHEN excluded.minute = t.minute THEN t.count + excluded.count
                             WHEN excluded.minute > t.minute THEN excluded.count ELSE t.count END,
                minute = GREATEST(t.minute, excluded.minute)
        """;

    /// <summary>
    /// Fills the counters from the rows: what they would hold had they been kept all along (the ring from the finish
    /// times of the last two hours before the newest). The migration runs it once; after that the triggers keep them,
    /// unless they were turned off (<c>session_replication_role = replica</c>, as a bulk load may do).
    /// </summary>
    public static readonly string RecountSql = $"""
        DELETE FROM tasksystem_task_counts;
        INSERT INTO tasksystem_task_counts (queue, state, shard, count)
        SELECT queue, state, 0, COUNT(*) FROM tasksystem_tasks WHERE state IN {Final} GROUP BY queue, state;
        DELETE FROM tasksystem_task_throughput;
        INSERT INTO tasksystem_task_throughput (slot, state, shard, minute, count)
        SELECT (f.minute % {Slots})::smallint, f.state, 0, f.minute, COUNT(*) FROM (
            SELECT state, floor(extract(epoch FROM finished_at) / 60)::bigint AS minute FROM tasksystem_tasks
            WHERE state IN {Final} AND finished_at >= to_timestamp(
                (floor(extract(epoch FROM (SELECT max(finished_at) FROM tasksystem_tasks)) / 60) - {Slots - 1}) * 60)) AS f
        GROUP BY f.minute, f.state;
        """;

    /// <summary>Declared after <see cref="RecountSql"/>, which it uses: static fields are set in the order they are written.</summary>
    public static readonly string Migration = $"""
        -- No writer may slip between the first count and the triggers: they wait for this transaction.
        LOCK TABLE tasksystem_tasks IN SHARE ROW EXCLUSIVE MODE;

        CREATE TABLE tasksystem_task_counts (
            queue text NOT NULL,
            state text NOT NULL,
            shard smallint NOT NULL,
            count bigint NOT NULL,
            PRIMARY KEY (queue, state, shard)
        );
        CREATE TABLE tasksystem_task_throughput (
            slot smallint NOT NULL,
            state text NOT NULL,
            shard smallint NOT NULL,
            minute bigint NOT NULL,
            count bigint NOT NULL,
            PRIMARY KEY (slot, state, shard)
        );

        -- Per UPDATE statement: +1 per row now finished, -1 per row that was (a retry leaves a final state); rows that
        -- stay as they were cancel out. The same per minute of finish; DISTINCT ON keeps one minute per slot should a
        -- statement span more than two hours of finish times.
        CREATE FUNCTION tasksystem_count_finished_update() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            writer_shard smallint := pg_backend_pid() % {Shards};
        BEGIN
            IF NOT EXISTS (SELECT FROM new_rows WHERE state IN {Final})
               AND NOT EXISTS (SELECT FROM old_rows WHERE state IN {Final}) THEN
                RETURN NULL;
            END IF;

            INSERT INTO tasksystem_task_counts AS c (queue, state, shard, count)
            SELECT d.queue, d.state, writer_shard, SUM(d.delta) FROM (
                SELECT queue, state, 1 AS delta FROM new_rows WHERE state IN {Final}
                UNION ALL
                SELECT queue, state, -1 FROM old_rows WHERE state IN {Final}) AS d
            GROUP BY d.queue, d.state
            HAVING SUM(d.delta) <> 0
            ORDER BY d.queue, d.state
            ON CONFLICT (queue, state, shard) DO UPDATE SET count = c.count + excluded.count;

            INSERT INTO tasksystem_task_throughput AS t (slot, state, shard, minute, count)
            SELECT DISTINCT ON (d.minute % {Slots}, d.state) (d.minute % {Slots})::smallint, d.state, writer_shard, d.minute, d.delta FROM (
                SELECT u.minute, u.state, SUM(u.delta) AS delta FROM (
                    SELECT floor(extract(epoch FROM finished_at) / 60)::bigint AS minute, state, 1 AS delta
                    FROM new_rows WHERE state IN {Final} AND finished_at IS NOT NULL
                    UNION ALL
                    SELECT floor(extract(epoch FROM finished_at) / 60)::bigint, state, -1
                    FROM old_rows WHERE state IN {Final} AND finished_at IS NOT NULL) AS u
                GROUP BY u.minute, u.state
                HAVING SUM(u.delta) <> 0) AS d
            ORDER BY d.minute % {Slots}, d.state, d.minute DESC
            {ThroughputConflict};
            RETURN NULL;
        END
        $$;

        -- Per DELETE statement (retention): -1 per finished row, and in its minute (a no-op past two hours).
        CREATE FUNCTION tasksystem_count_finished_delete() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            writer_shard smallint := pg_backend_pid() % {Shards};
        BEGIN
            INSERT INTO tasksystem_task_counts AS c (queue, state, shard, count)
            SELECT queue, state, writer_shard, -COUNT(*) FROM old_rows WHERE state IN {Final}
            GROUP BY queue, state
            ORDER BY queue, state
            ON CONFLICT (queue, state, shard) DO UPDATE SET count = c.count + excluded.count;

            INSERT INTO tasksystem_task_throughput AS t (slot, state, shard, minute, count)
            SELECT DISTINCT ON (d.minute % {Slots}, d.state) (d.minute % {Slots})::smallint, d.state, writer_shard, d.minute, -d.n FROM (
                SELECT floor(extract(epoch FROM finished_at) / 60)::bigint AS minute, state, COUNT(*) AS n
                FROM old_rows WHERE state IN {Final} AND finished_at IS NOT NULL
                GROUP BY 1, 2) AS d
            ORDER BY d.minute % {Slots}, d.state, d.minute DESC
            {ThroughputConflict};
            RETURN NULL;
        END
        $$;

        -- Per row inserted already finished (never by the store: by hand, or a copy of another database).
        CREATE FUNCTION tasksystem_count_finished_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            writer_shard smallint := pg_backend_pid() % {Shards};
            finished_minute bigint := floor(extract(epoch FROM NEW.finished_at) / 60);
        BEGIN
            INSERT INTO tasksystem_task_counts AS c (queue, state, shard, count) VALUES (NEW.queue, NEW.state, writer_shard, 1)
            ON CONFLICT (queue, state, shard) DO UPDATE SET count = c.count + 1;
            IF finished_minute IS NOT NULL THEN
                INSERT INTO tasksystem_task_throughput AS t (slot, state, shard, minute, count)
                VALUES ((finished_minute % {Slots})::smallint, NEW.state, writer_shard, finished_minute, 1)
                {ThroughputConflict};
            END IF;
            RETURN NULL;
        END
        $$;

        CREATE FUNCTION tasksystem_count_finished_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM tasksystem_task_counts;
            RETURN NULL;
        END
        $$;

        CREATE TRIGGER tasksystem_tasks_count_update AFTER UPDATE ON tasksystem_tasks
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION tasksystem_count_finished_update();
        CREATE TRIGGER tasksystem_tasks_count_delete AFTER DELETE ON tasksystem_tasks
            REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION tasksystem_count_finished_delete();
        CREATE TRIGGER tasksystem_tasks_count_insert AFTER INSERT ON tasksystem_tasks
            FOR EACH ROW WHEN (NEW.state IN {Final}) EXECUTE FUNCTION tasksystem_count_finished_insert();
        CREATE TRIGGER tasksystem_tasks_count_truncate AFTER TRUNCATE ON tasksystem_tasks
            FOR EACH STATEMENT EXECUTE FUNCTION tasksystem_count_finished_truncate();

        {RecountSql}
        """;
}
