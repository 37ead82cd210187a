using Npgsql;
using NpgsqlTypes;
using TaskSystem.Storage;
using static TaskSystem.PostgreSql.PostgresRows;

namespace TaskSystem.PostgreSql;

/// <summary>
/// Progress reports: one row per task in <c>tasksystem_progress</c>, written only while the reporting attempt still
/// holds the task (the same fence as an outcome's).
/// </summary>
internal sealed partial class PostgresTaskStore
{
    private const string ProgressColumns = "task_id, attempt, percent, message, at";

    public Task<bool> TaskProgressSetAsync(TaskProgressSetParams parameters, CancellationToken cancellationToken) =>
        _database.WriteAsync(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand("""
                INSERT INTO tasksystem_progress (task_id, attempt, percent, message, at)
                SELECT id, attempt, @percent, @message, @at FROM tasksystem_tasks
                WHERE id = @id AND state = 'running' AND node = @node AND claim_id = @claim
                ON CONFLICT (task_id) DO UPDATE SET attempt = excluded.attempt, percent = excluded.percent, message = excluded.message, at = excluded.at
                """, connection)
                .Bind("id", parameters.Id)
                .Bind("node", parameters.Node)
                .Bind("claim", parameters.ClaimId)
                .Bind("percent", parameters.Percent)
                .Bind("at", Utc(parameters.At));
            command.Parameters.Add(new NpgsqlParameter("message", NpgsqlDbType.Text) { Value = (object?)Text(parameters.Message) ?? DBNull.Value });
            return await command.ExecuteNonQueryAsync(token).ConfigureAwait(false) == 1;
        }, onUncertain: null, cancellationToken);

    public Task<IReadOnlyList<TaskProgressRecord>> TasksProgressGetAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return Task.FromResult<IReadOnlyList<TaskProgressRecord>>([]);
        }

        return _database.ReadAsync<IReadOnlyList<TaskProgressRecord>>(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand($"SELECT {ProgressColumns} FROM tasksystem_progress WHERE task_id = ANY(@ids)", connection)
                .Bind("ids", ids.ToArray());
            return await ReadProgressAsync(command, token).ConfigureAwait(false);
        }, cancellationToken);
    }

    public Task<IReadOnlyList<TaskProgressRecord>> TasksProgressRunningAsync(TasksProgressRunningParams parameters, CancellationToken cancellationToken) =>
        _database.ReadAsync<IReadOnlyList<TaskProgressRecord>>(async (connection, token) =>
        {
            // The running tasks from their partial index, then each one's progress by its key.
            await using var command = new NpgsqlCommand("""
                SELECT p.task_id, p.attempt, p.percent, p.message, p.at
                FROM tasksystem_tasks AS t JOIN tasksystem_progress AS p ON p.task_id = t.id
                WHERE t.state = 'running' AND p.attempt = t.attempt
                ORDER BY t.id
                LIMIT @limit
                """, connection)
                .Bind("limit", parameters.Limit);
            return await ReadProgressAsync(command, token).ConfigureAwait(false);
        }, cancellationToken);

    private static async Task<IReadOnlyList<TaskProgressRecord>> ReadProgressAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var found = new List<TaskProgressRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            found.Add(new TaskProgressRecord(
                reader.GetInt64(0), reader.GetInt32(1), reader.GetDouble(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.GetFieldValue<DateTimeOffset>(4)));
        }

        return found;
    }
}
