using Npgsql;
using TaskSystem.Storage;
using static TaskSystem.PostgreSql.PostgresRows;

namespace TaskSystem.PostgreSql;

/// <summary>
/// Counting without reading history: unfinished tasks from the <c>(state, id) INCLUDE (queue)</c> index (an index-only
/// scan where the visibility map allows; they are few while work keeps up), finished ones from the counters the
/// database keeps (<see cref="PostgresCounters"/>), their shards added up. Each read is one statement, so both halves
/// come from one snapshot.
/// </summary>
internal sealed partial class PostgresTaskStore
{
    private const string Unfinished = "state IN ('awaiting', 'queued', 'scheduled', 'running')";

    internal const string CountByStateSql = $"""
        SELECT state, COUNT(*) FROM tasksystem_tasks WHERE {Unfinished} GROUP BY state
        UNION ALL
        SELECT state, SUM(count)::bigint FROM tasksystem_task_counts GROUP BY state
        """;

    internal const string CountByQueueSql = $"""
        SELECT queue, state, COUNT(*) FROM tasksystem_tasks WHERE {Unfinished} GROUP BY queue, state
        UNION ALL
        SELECT queue, state, SUM(count)::bigint FROM tasksystem_task_counts GROUP BY queue, state HAVING SUM(count) <> 0
        """;

    /// <summary>
    /// At most one row per slot, final state and shard: 5,760. Only the minutes the rings hold in full: the last 120 up
    /// to the newest in any shard (a shard's slot may still hold a minute from two hours before).
    /// </summary>
    internal static readonly string ThroughputSql = $"""
        SELECT minute, state, SUM(count)::bigint FROM tasksystem_task_throughput
        WHERE minute >= @since AND minute > (SELECT max(minute) FROM tasksystem_task_throughput) - {TasksFinishedHistogramParams.MinutesKept}
        GROUP BY minute, state
        """;

    public Task<IReadOnlyDictionary<TaskState, long>> TasksCountByStateAsync(CancellationToken cancellationToken) =>
        _database.ReadAsync<IReadOnlyDictionary<TaskState, long>>(async (connection, token) =>
        {
            var counts = TaskStates.All.ToDictionary(state => state, _ => 0L);
            await using var command = new NpgsqlCommand(CountByStateSql, connection);
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                counts[ParseState(reader.GetString(0))] += reader.GetInt64(1);
            }

            return counts;
        }, cancellationToken);

    public Task<IReadOnlyList<QueueStateCount>> TasksCountByQueueAsync(CancellationToken cancellationToken) =>
        CountQueueStatesAsync(CountByQueueSql, cancellationToken);

    public Task<IReadOnlyList<FinishedBucket>> TasksFinishedHistogramAsync(TasksFinishedHistogramParams parameters, CancellationToken cancellationToken) =>
        _database.ReadAsync(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand(ThroughputSql, connection).Bind("since", parameters.SinceMinute);
            var minutes = new List<(long, TaskState, long)>();
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                minutes.Add((reader.GetInt64(0), ParseState(reader.GetString(1)), reader.GetInt64(2)));
            }

            return parameters.Fold(minutes);
        }, cancellationToken);
}
