using Microsoft.Data.Sqlite;
using static TaskSystem.Storage.Sqlite.SqliteRows;

namespace TaskSystem.Storage.Sqlite;

/// <summary>
/// Progress reports: one row per task in <c>task_progress</c>, written only while the reporting attempt still holds
/// the task. Not fsync'd (as the engine's own outcomes are not): the next durable commit carries it.
/// </summary>
internal sealed partial class SqliteTaskStore
{
    private const string ProgressColumns = "task_id, attempt, percent, message, at";

    public Task<bool> TaskProgressSetAsync(TaskProgressSetParams parameters, CancellationToken cancellationToken) =>
        WriteAsync(context => context.Command($"""
                INSERT INTO task_progress (task_id, attempt, percent, message, at)
                SELECT id, attempt, $percent, $message, $at FROM tasks WHERE {Fence}
                ON CONFLICT (task_id) DO UPDATE SET attempt = excluded.attempt, percent = excluded.percent, message = excluded.message, at = excluded.at
                """)
                .Bind("$id", parameters.Id)
                .Bind("$node", parameters.Node)
                .Bind("$claim", parameters.ClaimId)
                .Bind("$percent", parameters.Percent)
                .Bind("$message", parameters.Message)
                .Bind("$at", Ms(parameters.At))
                .ExecuteNonQuery() == 1,
            cancellationToken, singleStatement: true);

    public Task<IReadOnlyList<TaskProgressRecord>> TasksProgressGetAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return System.Threading.Tasks.Task.FromResult<IReadOnlyList<TaskProgressRecord>>([]);
        }

        return ReadAsync<IReadOnlyList<TaskProgressRecord>>(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {ProgressColumns} FROM task_progress WHERE task_id IN (SELECT value FROM json_each($ids))";
            return ReadProgress(command.Bind("$ids", "[" + string.Join(',', ids) + "]"));
        }, cancellationToken);
    }

    public Task<IReadOnlyList<TaskProgressRecord>> TasksProgressRunningAsync(TasksProgressRunningParams parameters, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<TaskProgressRecord>>(connection =>
        {
            // The running tasks from the (state, id) index, then each one's progress by its key.
            using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT p.task_id, p.attempt, p.percent, p.message, p.at
                FROM tasks AS t JOIN task_progress AS p ON p.task_id = t.id
                WHERE t.state = 'running' AND p.attempt = t.attempt
                ORDER BY t.id
                LIMIT $limit
                """;
            return ReadProgress(command.Bind("$limit", parameters.Limit));
        }, cancellationToken);

    private static List<TaskProgressRecord> ReadProgress(SqliteCommand command)
    {
        var found = new List<TaskProgressRecord>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            found.Add(new TaskProgressRecord(
                reader.GetInt64(0), reader.GetInt32(1), reader.GetDouble(2), reader.IsDBNull(3) ? null : reader.GetString(3), Time(reader.GetInt64(4))));
        }

        return found;
    }
}
