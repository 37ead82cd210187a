using Npgsql;
using static TaskSystem.PostgreSql.PostgresRows;

namespace TaskSystem.PostgreSql;

/// <summary>Bulk deletes of finished tasks; the database's own triggers keep the counters and drop the progress.</summary>
internal sealed partial class PostgresTaskStore
{
    public Task<int> TasksDeleteAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return Task.FromResult(0);
        }

        return _database.WriteAsync(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand(
                "DELETE FROM tasksystem_tasks WHERE id = ANY(@ids) AND state IN ('succeeded', 'failed', 'cancelled')", connection)
                .Bind("ids", ids.ToArray());
            return await command.ExecuteNonQueryAsync(token).ConfigureAwait(false);
        }, onUncertain: null, cancellationToken);
    }
}
