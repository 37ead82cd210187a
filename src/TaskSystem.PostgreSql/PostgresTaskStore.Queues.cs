using Npgsql;
using TaskSystem.Storage;
using static TaskSystem.PostgreSql.PostgresRows;

namespace TaskSystem.PostgreSql;

/// <summary>
/// Paused queues: a row in <c>tasksystem_queue_pauses</c> while a queue is paused, read by every claim statement (a
/// statement that starts after the pause commits sees it, on any node). Resuming tells every node, in the same
/// commit, that tasks are ready, as an insert does.
/// </summary>
internal sealed partial class PostgresTaskStore
{
    /// <summary>The claim's filter: the paused queues are read once per statement (an init plan over a handful of rows).</summary>
    private const string NotPaused = "queue <> ALL (ARRAY(SELECT queue FROM tasksystem_queue_pauses))";

    public Task<bool> QueuePauseSetAsync(QueuePauseSetParams parameters, CancellationToken cancellationToken) =>
        _database.WriteAsync(async (connection, token) =>
        {
            if (parameters.Paused)
            {
                await using var pause = new NpgsqlCommand(
                    "INSERT INTO tasksystem_queue_pauses (queue, paused_at) VALUES (@queue, @at) ON CONFLICT (queue) DO NOTHING", connection)
                    .Bind("queue", Text(parameters.Queue)!)
                    .Bind("at", Utc(parameters.At));
                return await pause.ExecuteNonQueryAsync(token).ConfigureAwait(false) == 1;
            }

            await using var resume = new NpgsqlCommand($"""
                WITH gone AS (DELETE FROM tasksystem_queue_pauses WHERE queue = @queue RETURNING queue)
                SELECT pg_notify('{PostgresChannels.TasksReady}', @node)::text FROM gone
                """, connection)
                .Bind("queue", Text(parameters.Queue)!)
                .Bind("node", _node);
            var resumed = false;
            await using var reader = await resume.ExecuteReaderAsync(token).ConfigureAwait(false);
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                resumed = true;
            }

            return resumed;
        }, onUncertain: null, cancellationToken);

    public Task<IReadOnlyList<QueuePauseRecord>> QueuesPausedAsync(CancellationToken cancellationToken) =>
        _database.ReadAsync<IReadOnlyList<QueuePauseRecord>>(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand("SELECT queue, paused_at FROM tasksystem_queue_pauses ORDER BY queue", connection);
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            var paused = new List<QueuePauseRecord>();
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                paused.Add(new QueuePauseRecord(reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1)));
            }

            return paused;
        }, cancellationToken);
}
