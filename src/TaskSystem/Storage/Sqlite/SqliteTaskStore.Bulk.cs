namespace TaskSystem.Storage.Sqlite;

/// <summary>Bulk deletes of finished tasks, keeping the finished counters in the same transaction as retention does.</summary>
internal sealed partial class SqliteTaskStore
{
    public Task<int> TasksDeleteAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return System.Threading.Tasks.Task.FromResult(0);
        }

        return WriteAsync(context =>
        {
            var counts = new FinishedCounts();
            var deleted = 0;
            using (var reader = context.Command("""
                DELETE FROM tasks
                WHERE id IN (SELECT value FROM json_each($ids)) AND state IN ('succeeded', 'failed', 'cancelled')
                RETURNING queue, state, finished_at
                """)
                .Bind("$ids", "[" + string.Join(',', ids) + "]")
                .ExecuteReader())
            {
                while (reader.Read())
                {
                    counts.Left(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetInt64(2));
                    deleted++;
                }
            }

            counts.Write(context);
            return deleted;
        }, cancellationToken, durable: true);
    }
}
