using Npgsql;
using TaskSystem.Storage;
using static TaskSystem.PostgreSql.PostgresRows;

namespace TaskSystem.PostgreSql;

/// <summary>
/// External workers' claims, leases and rescues: the same fence as a node's (state, node, claim), with the worker
/// as the node and its lease token as the claim. Every statement commits before it returns, so each answer a worker
/// gets is durable.
/// </summary>
internal sealed partial class PostgresTaskStore
{
    /// <summary>
    /// As <see cref="ClaimSql"/>, with a queue filter, the worker as holder, and a lease that never runs past the
    /// attempt's timeout.
    /// </summary>
    private const string ClaimExternalSql = $"""
        WITH candidates AS (
            SELECT c.id, c.priority, c.run_at
            FROM unnest(@types::text[]) AS handled(type)
            CROSS JOIN LATERAL (
                SELECT id, priority, run_at FROM tasksystem_tasks
                WHERE state = 'queued' AND type = handled.type AND (@any_queue OR queue = ANY(@queues)) AND {NotPaused}
                ORDER BY priority, run_at, id
                LIMIT @limit
                FOR UPDATE SKIP LOCKED) AS c),
        picked AS (SELECT id FROM candidates ORDER BY priority, run_at, id LIMIT @limit)
        UPDATE tasksystem_tasks AS t
        SET state = 'running', attempt = t.attempt + 1, node = @holder, claim_id = @claim,
            started_at = @now, finished_at = NULL,
            lease_expires_at = LEAST(@lease, @now + t.timeout_ms * interval '1 millisecond')
        FROM picked WHERE t.id = picked.id
        RETURNING {AliasedColumns}
        """;

    private const string ExternalLostError = $"""
        CASE WHEN t.lease_expires_at >= t.started_at + t.timeout_ms * interval '1 millisecond'
             THEN 'timed out: worker ' || substr(t.node, length('{ExternalHolder.Prefix}') + 1) || ' did not finish within the task''s timeout'
             ELSE 'interrupted: worker ' || substr(t.node, length('{ExternalHolder.Prefix}') + 1) || ' stopped renewing its lease' END
        """;

    /// <summary>
    /// As <see cref="RescueSql"/>, for tasks external workers hold (any node may run it: rows are skipped, not waited
    /// for). Tasks put back in the queue wake the other nodes' long-polling workers in the same commit (one signal per
    /// commit: PostgreSQL folds identical notifications).
    /// </summary>
    private const string RescueExternalSql = $"""
        WITH picked AS (
            SELECT id FROM tasksystem_tasks
            WHERE state = 'running' AND starts_with(node, '{ExternalHolder.Prefix}') AND lease_expires_at < @now
            LIMIT @limit
            FOR UPDATE SKIP LOCKED),
        done AS (
        UPDATE tasksystem_tasks AS t SET
            state = CASE WHEN t.stop_requested THEN 'cancelled' WHEN t.attempt >= t.max_attempts THEN 'failed' ELSE 'queued' END,
            finished_at = CASE WHEN t.stop_requested OR t.attempt >= t.max_attempts THEN @now ELSE NULL END,
            error = CASE WHEN t.stop_requested THEN 'stopped; its worker let its lease run out' ELSE {ExternalLostError} END,
            errors = CASE WHEN t.stop_requested THEN t.errors
                ELSE COALESCE(t.errors, '[]'::jsonb) || jsonb_build_array(jsonb_build_object('attempt', t.attempt, 'error', {ExternalLostError}, 'at', @now_ms)) END,
            lease_expires_at = NULL
        FROM picked WHERE t.id = picked.id
        RETURNING t.id, t.node, t.state, t.stop_requested)
        SELECT id, node, state,
            CASE WHEN stop_requested THEN pg_notify('{PostgresChannels.Stopped}', id::text)::text END,
            CASE WHEN state = 'queued' THEN pg_notify('{PostgresChannels.TasksReady}', @node)::text END
        FROM done
        """;

    public Task<IReadOnlyList<TaskRecord>> TasksClaimExternalAsync(TasksClaimExternalParams parameters, CancellationToken cancellationToken) =>
        _database.WriteAsync<IReadOnlyList<TaskRecord>>(async (connection, token) =>
        {
            // Promote, then claim: one round trip, one implicit transaction, as a node's claim.
            await using var batch = new NpgsqlBatch(connection);
            var promote = new NpgsqlBatchCommand(PromoteSql);
            promote.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", Utc(parameters.Now)));
            var claim = new NpgsqlBatchCommand(ClaimExternalSql);
            var queues = parameters.Queues ?? [];
            claim.Parameters.Add(new NpgsqlParameter<string>("holder", parameters.Holder));
            claim.Parameters.Add(new NpgsqlParameter<long>("claim", parameters.ClaimId));
            claim.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", Utc(parameters.Now)));
            claim.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("lease", Utc(parameters.LeaseExpiresAt)));
            claim.Parameters.Add(new NpgsqlParameter<string[]>("types", [.. parameters.Types.Distinct(StringComparer.Ordinal)]));
            claim.Parameters.Add(new NpgsqlParameter<bool>("any_queue", queues.Count == 0));
            claim.Parameters.Add(new NpgsqlParameter<string[]>("queues", [.. queues]));
            claim.Parameters.Add(new NpgsqlParameter<int>("limit", parameters.Limit));
            batch.BatchCommands.Add(new NpgsqlBatchCommand(ClaimPlanSql));
            batch.BatchCommands.Add(promote);
            batch.BatchCommands.Add(claim);
            var tasks = new List<TaskRecord>();
            await using (var reader = await batch.ExecuteReaderAsync(token).ConfigureAwait(false))
            {
                // Past the plan settings' row: the rows after it are claimed tasks.
                while (await reader.NextResultAsync(token).ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(token).ConfigureAwait(false))
                    {
                        tasks.Add(ReadTask(reader));
                    }
                }
            }

            // RETURNING gives no order: hand them over in queue order.
            tasks.Sort(static (a, b) =>
                a.Priority != b.Priority ? a.Priority.CompareTo(b.Priority)
                : a.RunAt != b.RunAt ? a.RunAt.CompareTo(b.RunAt)
                : a.Id.CompareTo(b.Id));
            return tasks;
        }, onUncertain: null, cancellationToken);

    public Task<TaskLease?> TaskLeaseExtendAsync(TaskLeaseExtendParams parameters, CancellationToken cancellationToken) =>
        _database.WriteAsync(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand("""
                UPDATE tasksystem_tasks SET lease_expires_at = LEAST(@lease, started_at + timeout_ms * interval '1 millisecond')
                WHERE id = @id AND state = 'running' AND node = @holder AND claim_id = @claim
                RETURNING lease_expires_at, stop_requested
                """, connection)
                .Bind("id", parameters.Id)
                .Bind("holder", parameters.Holder)
                .Bind("claim", parameters.ClaimId)
                .Bind("lease", Utc(parameters.LeaseExpiresAt));
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            return await reader.ReadAsync(token).ConfigureAwait(false)
                ? new TaskLease(reader.GetFieldValue<DateTimeOffset>(0), reader.GetBoolean(1))
                : null;
        }, onUncertain: null, cancellationToken);

    public Task<IReadOnlyList<RescuedTask>> TasksRescueExternalAsync(TasksRescueExternalParams parameters, CancellationToken cancellationToken) =>
        WriteSettlingAsync<IReadOnlyList<RescuedTask>>(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand(RescueExternalSql, connection)
                .Bind("node", _node)
                .Bind("now", Utc(parameters.Now))
                .Bind("now_ms", Ms(parameters.Now))
                .Bind("limit", parameters.Limit);
            var rescued = new List<RescuedTask>();
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                rescued.Add(new RescuedTask(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1), ParseState(reader.GetString(2))));
            }

            return (rescued, [.. rescued.Where(r => r.NewState.IsFinal()).Select(r => r.Id)]);
        }, parameters.Now, cancellationToken);
}
