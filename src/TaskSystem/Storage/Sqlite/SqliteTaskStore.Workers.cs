using static TaskSystem.Storage.Sqlite.SqliteRows;

namespace TaskSystem.Storage.Sqlite;

/// <summary>
/// External workers' claims, leases and rescues. A claim's or a lease's answer goes to another process, so those writes
/// are fsync'd before they return (durable), as an accepted task is; concurrent ones share the fsync (group commit).
/// A rescue answers nobody: like a node's, it is made durable by the next fsync'd commit.
/// </summary>
internal sealed partial class SqliteTaskStore
{
    /// <summary>Matches the node column of tasks an external worker holds (GLOB: case-sensitive, as names are).</summary>
    private const string HeldExternally = $"node GLOB '{ExternalHolder.Prefix}*'";

    /// <summary>The rescue's error for an interrupted attempt: a lease capped at the timeout means it ran out of time.</summary>
    private const string ExternalLostError = $"""
        CASE WHEN lease_expires_at >= started_at + timeout_ms
             THEN 'timed out: worker ' || substr(node, length('{ExternalHolder.Prefix}') + 1) || ' did not finish within the task''s timeout'
             ELSE 'interrupted: worker ' || substr(node, length('{ExternalHolder.Prefix}') + 1) || ' stopped renewing its lease' END
        """;

    public Task<IReadOnlyList<TaskRecord>> TasksClaimExternalAsync(TasksClaimExternalParams parameters, CancellationToken cancellationToken) =>
        WriteAsync<IReadOnlyList<TaskRecord>>(context =>
        {
            var now = Ms(parameters.Now);
            context.Command("UPDATE tasks SET state = 'queued' WHERE state = 'scheduled' AND run_at <= $now").Bind("$now", now).ExecuteNonQuery();

            var ids = SelectClaimableExternal(context, parameters);
            if (ids.Count == 0)
            {
                return [];
            }

            var claimed = ReadTasks(context.Command($"""
                UPDATE tasks
                SET state = 'running', attempt = attempt + 1, node = $holder, claim_id = $claim,
                    started_at = $now, finished_at = NULL, lease_expires_at = min($lease, $now + timeout_ms)
                WHERE id IN (SELECT value FROM json_each($ids)) AND state = 'queued'
                RETURNING {Columns}
                """)
                .Bind("$holder", parameters.Holder)
                .Bind("$claim", parameters.ClaimId)
                .Bind("$now", now)
                .Bind("$lease", Ms(parameters.LeaseExpiresAt))
                .Bind("$ids", "[" + string.Join(',', ids) + "]"));

            // RETURNING gives no order: hand them over in queue order.
            claimed.Sort(static (a, b) =>
                a.Priority != b.Priority ? a.Priority.CompareTo(b.Priority)
                : a.RunAt != b.RunAt ? a.RunAt.CompareTo(b.RunAt)
                : a.Id.CompareTo(b.Id));
            return claimed;
        }, cancellationToken, durable: true);

    /// <summary>One seek of the queue index per type, as a node's claim does; the queue filter is checked on the rows it reads.</summary>
    private static List<long> SelectClaimableExternal(SqliteWriteContext context, TasksClaimExternalParams parameters)
    {
        var anyQueue = parameters.Queues is not { Count: > 0 };
        var queues = anyQueue ? "[]" : System.Text.Json.JsonSerializer.Serialize(parameters.Queues, StoreJsonContext.Default.IReadOnlyListString);
        var candidates = new List<(int Priority, long RunAt, long Id)>();
        foreach (var type in parameters.Types.Distinct(StringComparer.Ordinal))
        {
            using var reader = context.Command($"""
                SELECT priority, run_at, id FROM tasks INDEXED BY tasks_queued
                WHERE state = 'queued' AND type = $type AND ($any_queue = 1 OR queue IN (SELECT value FROM json_each($queues))) AND {NotPaused}
                ORDER BY priority, run_at, id
                LIMIT $limit
                """)
                .Bind("$type", type)
                .Bind("$any_queue", anyQueue ? 1 : 0)
                .Bind("$queues", queues)
                .Bind("$limit", parameters.Limit)
                .ExecuteReader();
            while (reader.Read())
            {
                candidates.Add((reader.GetInt32(0), reader.GetInt64(1), reader.GetInt64(2)));
            }
        }

        candidates.Sort();
        return [.. candidates.Take(parameters.Limit).Select(c => c.Id)];
    }

    public Task<TaskLease?> TaskLeaseExtendAsync(TaskLeaseExtendParams parameters, CancellationToken cancellationToken) =>
        WriteAsync(context =>
        {
            using var reader = context.Command($"""
                UPDATE tasks SET lease_expires_at = min($lease, started_at + timeout_ms)
                WHERE {Fence}
                RETURNING lease_expires_at, stop_requested
                """)
                .Bind("$id", parameters.Id)
                .Bind("$node", parameters.Holder)
                .Bind("$claim", parameters.ClaimId)
                .Bind("$lease", Ms(parameters.LeaseExpiresAt))
                .ExecuteReader();
            return reader.Read() ? new TaskLease(Time(reader.GetInt64(0)), reader.GetInt64(1) != 0) : null;
        }, cancellationToken, singleStatement: true, durable: true);

    public Task<IReadOnlyList<RescuedTask>> TasksRescueExternalAsync(TasksRescueExternalParams parameters, CancellationToken cancellationToken) =>
        WriteSettlingAsync<IReadOnlyList<RescuedTask>>(context =>
        {
            var rescued = new List<RescuedTask>();
            using var reader = context.Command($"""
                UPDATE tasks SET
                    state = CASE WHEN stop_requested THEN 'cancelled' WHEN attempt >= max_attempts THEN 'failed' ELSE 'queued' END,
                    finished_at = CASE WHEN stop_requested OR attempt >= max_attempts THEN $now ELSE NULL END,
                    error = CASE WHEN stop_requested THEN 'stopped; its worker let its lease run out' ELSE {ExternalLostError} END,
                    errors = CASE WHEN stop_requested THEN errors
                                  ELSE json_insert(COALESCE(errors, '[]'), '$[#]', json_object('attempt', attempt, 'error', {ExternalLostError}, 'at', $now)) END,
                    lease_expires_at = NULL
                WHERE id IN (
                    SELECT id FROM tasks
                    WHERE state = 'running' AND {HeldExternally} AND lease_expires_at < $now
                    LIMIT $limit)
                RETURNING id, node, state
                """)
                .Bind("$now", Ms(parameters.Now))
                .Bind("$limit", parameters.Limit)
                .ExecuteReader();
            while (reader.Read())
            {
                rescued.Add(new RescuedTask(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1), ParseState(reader.GetString(2))));
            }

            return (rescued, rescued.Where(r => r.NewState.IsFinal()).Select(r => r.Id));
        }, parameters.Now, cancellationToken);
}
