using static TaskSystem.Storage.Sqlite.SqliteRows;

namespace TaskSystem.Storage.Sqlite;

/// <summary>
/// Counting without reading history. Unfinished tasks (queued, scheduled, running) are counted from the
/// <c>(state, id, queue)</c> index alone, never their rows: they are few while work keeps up, and never more than the
/// queue holds.
/// Finished tasks are counted by counters (migration 3): <c>task_counts</c> per queue and final state, and
/// <c>task_throughput</c> per minute of their finish over the last two hours. Every write that moves a task into or
/// out of a final state (an outcome, a stop, a retry, a rescue, retention) updates them in its own transaction; only
/// this store writes the file (it holds the file's lock), so no write escapes them.
/// </summary>
internal sealed partial class SqliteTaskStore
{
    private const string Unfinished = "state IN ('awaiting', 'queued', 'scheduled', 'running')";

    /// <summary>Per state: unfinished ones from the index, finished ones from the counters, in one statement (one snapshot).</summary>
    internal const string CountByStateSql = $"""
        SELECT state, COUNT(*) FROM tasks WHERE {Unfinished} GROUP BY state
        UNION ALL
        SELECT state, SUM(count) FROM task_counts GROUP BY state
        """;

    /// <summary>Per queue and state, the same way: the index holds the queue, so no row is read.</summary>
    internal const string CountByQueueSql = $"""
        SELECT queue, state, COUNT(*) FROM tasks WHERE {Unfinished} GROUP BY queue, state
        UNION ALL
        SELECT queue, state, count FROM task_counts WHERE count <> 0
        """;

    /// <summary>
    /// At most one row per slot and final state: 360. Only the minutes the ring still holds in full: the last 120 up
    /// to the newest (a slot may still hold a minute from two hours before).
    /// </summary>
    internal static readonly string ThroughputSql = $"""
        SELECT minute, state, count FROM task_throughput
        WHERE minute >= $since AND minute > (SELECT MAX(minute) FROM task_throughput) - {TasksFinishedHistogramParams.MinutesKept}
        """;

    private const string CountFinishedSql = """
        INSERT INTO task_counts (queue, state, count) VALUES ($queue, $state, $delta)
        ON CONFLICT (queue, state) DO UPDATE SET count = count + excluded.count
        """;

    /// <summary>A slot holds one minute: a later minute takes it over, an earlier one (two hours late) is dropped.</summary>
    private const string ThroughputConflict = """
        ON CONFLICT (slot, state) DO UPDATE SET
            count = CASE WHEN excluded.minute = minute THEN count + excluded.count WHEN excluded.minute > minute THEN excluded.count ELSE count END,
            minute = max(minute, excluded.minute)
        """;

    private static readonly string CountThroughputSql = $"""
        INSERT INTO task_throughput (slot, state, minute, count) VALUES ($minute % {TasksFinishedHistogramParams.MinutesKept}, $state, $minute, $delta)
        {ThroughputConflict}
        """;

    /// <summary>
    /// Counts the tasks an outcome batch finished, from what their rows hold now (whatever each outcome did to its task:
    /// a retry of a stopped task ends cancelled, say), in SQL: one statement per counter table for the whole batch.
    /// Cheaper than a RETURNING clause on each outcome's statement (SQLite serves each through a temporary table) and
    /// than reading the rows back into the process.
    /// </summary>
    private static void CountCompleted(SqliteWriteContext context, IEnumerable<long> ids)
    {
        var list = string.Join(',', ids);
        if (list.Length > 0)
        {
            var json = "[" + list + "]";
            context.Command(CountCompletedSql).Bind("$ids", json).ExecuteNonQuery();
            context.Command(CountCompletedThroughputSql).Bind("$ids", json).ExecuteNonQuery();
        }
    }

    // The unary + keeps SQLite on the primary key: the (state, id, queue) index would walk every finished task.
    private const string Completed = "id IN (SELECT value FROM json_each($ids)) AND +state IN ('succeeded', 'failed', 'cancelled')";

    private const string CountCompletedSql = $"""
        INSERT INTO task_counts (queue, state, count)
        SELECT queue, state, COUNT(*) FROM tasks WHERE {Completed} GROUP BY queue, state
        ON CONFLICT (queue, state) DO UPDATE SET count = count + excluded.count
        """;

    private static readonly string CountCompletedThroughputSql = $"""
        INSERT INTO task_throughput (slot, state, minute, count)
        SELECT (finished_at / 60000) % {TasksFinishedHistogramParams.MinutesKept}, state, finished_at / 60000, COUNT(*) FROM tasks
        WHERE {Completed} AND +finished_at IS NOT NULL
        GROUP BY finished_at / 60000, state
        {ThroughputConflict}
        """;

    public Task<IReadOnlyDictionary<TaskState, long>> TasksCountByStateAsync(CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyDictionary<TaskState, long>>(connection =>
        {
            var counts = TaskStates.All.ToDictionary(state => state, _ => 0L);
            using var command = connection.CreateCommand();
            command.CommandText = CountByStateSql;
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                counts[ParseState(reader.GetString(0))] += reader.GetInt64(1);
            }

            return counts;
        }, cancellationToken);

    public Task<IReadOnlyList<QueueStateCount>> TasksCountByQueueAsync(CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<QueueStateCount>>(connection => CountQueueStates(connection, CountByQueueSql), cancellationToken);

    public Task<IReadOnlyList<FinishedBucket>> TasksFinishedHistogramAsync(TasksFinishedHistogramParams parameters, CancellationToken cancellationToken) =>
        ReadAsync(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = ThroughputSql;
            command.Bind("$since", parameters.SinceMinute);
            var minutes = new List<(long, TaskState, long)>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                minutes.Add((reader.GetInt64(0), ParseState(reader.GetString(1)), reader.GetInt64(2)));
            }

            return parameters.Fold(minutes);
        }, cancellationToken);

    /// <summary>
    /// The moves into and out of final states that one write made, summed per queue and per minute, then written at
    /// its end: one statement per queue and state, and per minute and state, whatever the number of tasks.
    /// </summary>
    private sealed class FinishedCounts
    {
        private readonly Dictionary<(string Queue, string State), long> _byQueue = [];
        private readonly Dictionary<(long Minute, string State), long> _byMinute = [];

        /// <summary>A task is now in <paramref name="state"/> since <paramref name="atMs"/>; nothing when that state is not final.</summary>
        public void Entered(string queue, string state, long atMs)
        {
            if (IsFinal(state))
            {
                Add(_byQueue, (queue, state), 1);
                Add(_byMinute, (atMs / 60_000, state), 1);
            }
        }

        /// <summary>
        /// A task in <paramref name="state"/> since <paramref name="atMs"/> left it (a retry) or the store (retention);
        /// nothing when that state is not final.
        /// </summary>
        public void Left(string queue, string state, long? atMs)
        {
            if (IsFinal(state))
            {
                Add(_byQueue, (queue, state), -1);
                if (atMs is { } at)
                {
                    Add(_byMinute, (at / 60_000, state), -1);
                }
            }
        }

        public void Write(SqliteWriteContext context)
        {
            foreach (var ((queue, state), delta) in _byQueue)
            {
                if (delta != 0)
                {
                    context.Command(CountFinishedSql).Bind("$queue", queue).Bind("$state", state).Bind("$delta", delta).ExecuteNonQuery();
                }
            }

            foreach (var ((minute, state), delta) in _byMinute.Where(m => m.Value != 0))
            {
                context.Command(CountThroughputSql).Bind("$minute", minute).Bind("$state", state).Bind("$delta", delta).ExecuteNonQuery();
            }
        }

        private static bool IsFinal(string state) => state is "succeeded" or "failed" or "cancelled";

        private static void Add<TKey>(Dictionary<TKey, long> counts, TKey key, long delta)
            where TKey : notnull =>
            counts[key] = counts.GetValueOrDefault(key) + delta;
    }
}
