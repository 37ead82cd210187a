using static TaskSystem.Storage.Sqlite.SqliteRows;

namespace TaskSystem.Storage.Sqlite;

/// <summary>
/// Paused queues: a row in <c>queue_pauses</c> while a queue is paused. Claims (a node's and a worker's) skip its tasks
/// in the same statement that selects them; pause and claim both go through the one writer, so a claim after the pause
/// never takes one. The single process wakes its own dispatcher on resume.
/// </summary>
internal sealed partial class SqliteTaskStore
{
    /// <summary>The claim's filter: the list of paused queues is read once per statement (a handful of rows).</summary>
    private const string NotPaused = "queue NOT IN (SELECT queue FROM queue_pauses)";

    /// <summary>Queue names as a JSON array for <c>json_each</c>.</summary>
    private static string QueueList(IReadOnlyList<string>? queues) =>
        queues is { Count: > 0 } ? System.Text.Json.JsonSerializer.Serialize(queues, StoreJsonContext.Default.IReadOnlyListString) : "[]";

    public Task<bool> QueuePauseSetAsync(QueuePauseSetParams parameters, CancellationToken cancellationToken) =>
        WriteAsync(context => (parameters.Paused
                ? context.Command("INSERT INTO queue_pauses (queue, paused_at) VALUES ($queue, $at) ON CONFLICT (queue) DO NOTHING")
                    .Bind("$queue", parameters.Queue)
                    .Bind("$at", Ms(parameters.At))
                : context.Command("DELETE FROM queue_pauses WHERE queue = $queue").Bind("$queue", parameters.Queue))
                .ExecuteNonQuery() == 1,
            cancellationToken, singleStatement: true, durable: true);

    public Task<IReadOnlyList<QueuePauseRecord>> QueuesPausedAsync(CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<QueuePauseRecord>>(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT queue, paused_at FROM queue_pauses ORDER BY queue";
            using var reader = command.ExecuteReader();
            var paused = new List<QueuePauseRecord>();
            while (reader.Read())
            {
                paused.Add(new QueuePauseRecord(reader.GetString(0), Time(reader.GetInt64(1))));
            }

            return paused;
        }, cancellationToken);
}
