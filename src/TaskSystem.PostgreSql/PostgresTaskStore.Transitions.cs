using Npgsql;
using TaskSystem.Storage;
using static TaskSystem.PostgreSql.PostgresRows;

namespace TaskSystem.PostgreSql;

/// <summary>The state changes: each one conditional on the state it expects, so races resolve in the database.</summary>
internal sealed partial class PostgresTaskStore
{
    /// <summary>
    /// Due scheduled tasks become queued, a bounded batch at a time; rows another node is promoting are skipped.
    /// </summary>
    private const string PromoteSql = """
        UPDATE tasksystem_tasks SET state = 'queued'
        WHERE id IN (
            SELECT id FROM tasksystem_tasks
            WHERE state = 'scheduled' AND run_at <= @now
            ORDER BY run_at
            LIMIT 1000
            FOR UPDATE SKIP LOCKED)
        """;

    /// <summary>
    /// One index seek per handled type (the first <c>@limit</c> of each, skipping rows other nodes are claiming),
    /// merged into the global priority, run-at, id order; then the first <c>@limit</c> become running.
    /// </summary>
    private const string ClaimSql = $"""
        WITH candidates AS (
            SELECT c.id, c.priority, c.run_at
            FROM unnest(@types::text[]) AS handled(type)
            CROSS JOIN LATERAL (
                SELECT id, priority, run_at FROM tasksystem_tasks
                WHERE state = 'queued' AND type = handled.type AND {NotPaused}
                  AND (@any_queue OR queue = ANY(@queues)) AND queue <> ALL(@excluded)
                ORDER BY priority, run_at, id
                LIMIT @limit
                FOR UPDATE SKIP LOCKED) AS c),
        picked AS (SELECT id FROM candidates ORDER BY priority, run_at, id LIMIT @limit)
        UPDATE tasksystem_tasks AS t
        SET state = 'running', attempt = t.attempt + 1, node = @node, claim_id = @claim,
            started_at = @now, finished_at = NULL, lease_expires_at = @lease
        FROM picked WHERE t.id = picked.id
        RETURNING {AliasedColumns}
        """;

    /// <summary>
    /// For this transaction only: the claim reads the head of the queued index in order and stops at its limit, the
    /// right plan whatever the table holds. Left to its statistics, the planner sometimes chose a full scan and a sort
    /// (statistics taken when the queue was empty, or when every row was queued, say the queued rows of a type are
    /// one): in a drain of 20,000 tasks with 20 workers that was 13-23 ms and 1,700-1,900 buffers per claim instead of
    /// 1-3 ms and about 200, and the drain three times slower, from one run to the next of the same code.
    /// </summary>
    private const string ClaimPlanSql = "SELECT set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true)";

    /// <summary>For this transaction only: its commit returns before its WAL is flushed to disk.</summary>
    private const string AsynchronousCommitSql = "SELECT set_config('synchronous_commit', 'off', true)";

    /// <summary>
    /// Every kind of outcome in one statement, so that the completer's batch is one round trip. For
    /// succeeded, failed and cancelled the kind is the new state. Any outcome of a task with a stop request ends
    /// cancelled instead, keeping the result or the error it brought.
    /// </summary>
    private const string CompleteSql = $"""
        WITH done AS (
        UPDATE tasksystem_tasks AS t SET
            state = CASE
                WHEN t.stop_requested THEN 'cancelled'
                WHEN c.kind = 'retry' THEN 'scheduled'
                WHEN c.kind IN ('released', 'interrupted') THEN 'queued'
                ELSE c.kind END,
            finished_at = CASE WHEN c.kind IN ('retry', 'released', 'interrupted') AND NOT t.stop_requested THEN NULL ELSE c.at END,
            result = CASE WHEN c.kind IN ('succeeded', 'cancelled') THEN c.result ELSE t.result END,
            error = CASE
                WHEN c.kind = 'succeeded' THEN CASE WHEN t.stop_requested THEN '{StopErrors.ReturnedAfterStop}' END
                WHEN c.kind = 'released' AND NOT t.stop_requested THEN t.error
                ELSE c.error END,
            errors = CASE WHEN c.kind IN ('retry', 'failed')
                THEN COALESCE(t.errors, '[]'::jsonb) || jsonb_build_array(jsonb_build_object('attempt', t.attempt, 'error', c.error, 'at', c.at_ms, 'stackTrace', c.stack_trace))
                ELSE t.errors END,
            run_at = CASE WHEN c.kind = 'retry' THEN COALESCE(c.run_at, c.at) ELSE t.run_at END,
            attempt = CASE WHEN c.kind IN ('released', 'interrupted') AND NOT t.stop_requested THEN t.attempt - 1 ELSE t.attempt END,
            lease_expires_at = NULL
        FROM unnest(@id::bigint[], @node::text[], @claim::bigint[], @kind::text[], @at::timestamptz[], @at_ms::bigint[],
                    @result::text[], @error::text[], @run_at::timestamptz[], @stack_trace::text[])
            AS c(id, node, claim, kind, at, at_ms, result, error, run_at, stack_trace)
        WHERE t.id = c.id AND t.state = 'running' AND t.node = c.node AND t.claim_id = c.claim
        RETURNING t.id, t.stop_requested)
        {NotifyStopped}
        """;

    /// <summary>
    /// Ends the statement that took tasks out of running (rows <c>done</c>: id, stop_requested): returns their ids,
    /// and for those with a stop request tells the node waiting on the stop, in the same commit.
    /// </summary>
    private const string NotifyStopped =
        $"SELECT id, CASE WHEN stop_requested THEN pg_notify('{PostgresChannels.Stopped}', id::text)::text END FROM done";

    private const string LostError = "'interrupted: node ' || COALESCE(t.node, '?') || ' was lost while it ran'";

    private const string RescueSql = $"""
        WITH picked AS (
            SELECT id FROM tasksystem_tasks
            WHERE state = 'running'
              AND NOT starts_with(node, 'worker:')
              AND (@all_running OR node = @all_of_node::text
                   OR ((node <> @rescuer OR (@held::bigint[] IS NOT NULL AND id <> ALL(@held::bigint[]))) AND lease_expires_at < @now))
            LIMIT @limit
            FOR UPDATE SKIP LOCKED),
        done AS (
        UPDATE tasksystem_tasks AS t SET
            state = CASE WHEN t.stop_requested THEN 'cancelled' WHEN t.attempt >= t.max_attempts THEN 'failed' ELSE 'queued' END,
            finished_at = CASE WHEN t.stop_requested OR t.attempt >= t.max_attempts THEN @now ELSE NULL END,
            error = CASE WHEN t.stop_requested THEN 'stopped; its node was lost while it ran' ELSE {LostError} END,
            errors = CASE WHEN t.stop_requested THEN t.errors
                ELSE COALESCE(t.errors, '[]'::jsonb) || jsonb_build_array(jsonb_build_object('attempt', t.attempt, 'error', {LostError}, 'at', @now_ms)) END,
            lease_expires_at = NULL
        FROM picked WHERE t.id = picked.id
        RETURNING t.id, t.node, t.state, t.stop_requested)
        SELECT id, node, state, CASE WHEN stop_requested THEN pg_notify('{PostgresChannels.Stopped}', id::text)::text END FROM done
        """;

    public async Task<IReadOnlyList<TaskRecord>> TasksClaimAsync(TasksClaimParams parameters, CancellationToken cancellationToken)
    {
        var claimed = await _database.WriteAsync(async (connection, token) =>
        {
            await ReleaseUncertainClaimsAsync(connection, parameters.Now, token).ConfigureAwait(false);

            // Promote, then claim: one round trip, one implicit transaction; the claim sees what the promotion queued.
            await using var batch = new NpgsqlBatch(connection);
            var promote = new NpgsqlBatchCommand(PromoteSql);
            promote.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", Utc(parameters.Now)));
            var claim = new NpgsqlBatchCommand(ClaimSql);
            claim.Parameters.Add(new NpgsqlParameter<string>("node", parameters.Node));
            claim.Parameters.Add(new NpgsqlParameter<long>("claim", parameters.ClaimId));
            claim.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", Utc(parameters.Now)));
            claim.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("lease", Utc(parameters.LeaseExpiresAt)));
            claim.Parameters.Add(new NpgsqlParameter<string[]>("types", [.. parameters.Types]));
            claim.Parameters.Add(new NpgsqlParameter<int>("limit", parameters.Limit));
            claim.Parameters.Add(new NpgsqlParameter<bool>("any_queue", parameters.Queues is null));
            claim.Parameters.Add(new NpgsqlParameter<string[]>("queues", [.. parameters.Queues ?? []]));
            claim.Parameters.Add(new NpgsqlParameter<string[]>("excluded", [.. parameters.ExcludedQueues ?? []]));
            batch.BatchCommands.Add(new NpgsqlBatchCommand(ClaimPlanSql));
            batch.BatchCommands.Add(promote);
            batch.BatchCommands.Add(claim);
            var tasks = new List<TaskRecord>();
            await using var reader = await batch.ExecuteReaderAsync(token).ConfigureAwait(false);

            // Past the plan settings' row: the rows after it are claimed tasks.
            while (await reader.NextResultAsync(token).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(token).ConfigureAwait(false))
                {
                    tasks.Add(ReadTask(reader));
                }
            }

            return tasks;
        }, () =>
        {
            // The claim may have committed without our hearing of it: those tasks would sit running under this node,
            // their leases renewed by its heartbeat, run by nobody. Put them back at the next chance.
            _uncertainClaims[parameters.ClaimId] = parameters.Node;
            PostgresLog.ClaimUncertain(_logger);
        }, cancellationToken).ConfigureAwait(false);

        // RETURNING gives no order: start them in queue order.
        claimed.Sort(static (a, b) =>
            a.Priority != b.Priority ? a.Priority.CompareTo(b.Priority)
            : a.RunAt != b.RunAt ? a.RunAt.CompareTo(b.RunAt)
            : a.Id.CompareTo(b.Id));
        return claimed;
    }

    /// <summary>Puts the tasks of claims with an unknown outcome back in the queue, as a release at shutdown would.</summary>
    private async Task ReleaseUncertainClaimsAsync(NpgsqlConnection connection, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (_uncertainClaims.IsEmpty)
        {
            return;
        }

        var claims = _uncertainClaims.ToArray();
        await using var command = new NpgsqlCommand("""
            UPDATE tasksystem_tasks SET
                state = CASE WHEN stop_requested THEN 'cancelled' ELSE 'queued' END,
                finished_at = CASE WHEN stop_requested THEN @now ELSE NULL END,
                attempt = CASE WHEN stop_requested THEN attempt ELSE attempt - 1 END,
                error = CASE WHEN stop_requested THEN 'stopped before it started' ELSE error END,
                lease_expires_at = NULL
            WHERE state = 'running' AND node = ANY(@nodes) AND claim_id = ANY(@claims)
            """, connection)
            .Bind("now", Utc(now))
            .Bind("nodes", claims.Select(c => c.Value).Distinct().ToArray())
            .Bind("claims", claims.Select(c => c.Key).ToArray());
        var released = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        foreach (var claim in claims)
        {
            _uncertainClaims.TryRemove(claim);
        }

        if (released > 0)
        {
            PostgresLog.UncertainClaimsReleased(_logger, released);
        }
    }

    /// <summary>
    /// The outcomes and the settling of their tasks' children in one batch: one round trip and one implicit
    /// transaction (the batch's single sync), each statement with its own snapshot. The settling is given every task
    /// of the batch, applied or fenced: it only acts on children whose parents have all finished, so a fenced task's
    /// children are left as they are.
    /// </summary>
    public Task<IReadOnlyList<bool>> TasksCompleteAsync(TasksCompleteParams parameters, CancellationToken cancellationToken) =>
        _database.WriteAsync<IReadOnlyList<bool>>(async (connection, token) =>
        {
            var completions = parameters.Completions;
            var ids = completions.Select(c => c.Id).ToArray();
            await using var batch = new NpgsqlBatch(connection);

            // Outcomes commit without waiting for the WAL flush (claims, enqueues and stops still wait). An outcome
            // lost in a database crash leaves its task running under this node with a lease nobody renews: the
            // rescuer puts it back in the queue (TasksRescueParams.Held), and it runs again, as at-least-once allows.
            batch.BatchCommands.Add(new NpgsqlBatchCommand(AsynchronousCommitSql));
            var complete = new NpgsqlBatchCommand(CompleteSql);
            complete.Parameters.Add(new NpgsqlParameter<long[]>("id", ids));
            complete.Parameters.Add(new NpgsqlParameter<string[]>("node", [.. completions.Select(c => c.Node)]));
            complete.Parameters.Add(new NpgsqlParameter<long[]>("claim", [.. completions.Select(c => c.ClaimId)]));
            complete.Parameters.Add(new NpgsqlParameter<string[]>("kind", [.. completions.Select(c => KindName(c.Kind))]));
            complete.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]>("at", [.. completions.Select(c => Utc(c.At))]));
            complete.Parameters.Add(new NpgsqlParameter<long[]>("at_ms", [.. completions.Select(c => Ms(c.At))]));
            complete.Parameters.Add(new NpgsqlParameter<string?[]>("result", [.. completions.Select(c => c.ResultJson)]));
            complete.Parameters.Add(new NpgsqlParameter<string?[]>("error", [.. completions.Select(c => Text(c.Error))]));
            complete.Parameters.Add(new NpgsqlParameter<DateTimeOffset?[]>("run_at", [.. completions.Select(c => c.RunAt is { } runAt ? Utc(runAt) : (DateTimeOffset?)null)]));
            complete.Parameters.Add(new NpgsqlParameter<string?[]>("stack_trace", [.. completions.Select(c => Text(c.StackTrace))]));
            var settle = new NpgsqlBatchCommand(SettleSql);
            AddSettleParameters(settle.Parameters, ids, [], completions.Count == 0 ? DateTimeOffset.UnixEpoch : completions.Max(c => c.At));
            batch.BatchCommands.Add(complete);
            batch.BatchCommands.Add(settle);

            var applied = new HashSet<long>();
            var released = 0;
            await using (var reader = await batch.ExecuteReaderAsync(token).ConfigureAwait(false))
            {
                await reader.NextResultAsync(token).ConfigureAwait(false);
                while (await reader.ReadAsync(token).ConfigureAwait(false))
                {
                    applied.Add(reader.GetInt64(0));
                }

                await reader.NextResultAsync(token).ConfigureAwait(false);
                if (await reader.ReadAsync(token).ConfigureAwait(false))
                {
                    released = reader.GetInt32(0);
                }
            }

            Released(released);
            return [.. completions.Select(c => applied.Contains(c.Id))];
        }, onUncertain: null, cancellationToken);

    private static string KindName(CompletionKind kind) => kind switch
    {
        CompletionKind.Succeeded => "succeeded",
        CompletionKind.Retry => "retry",
        CompletionKind.Failed => "failed",
        CompletionKind.Cancelled => "cancelled",
        CompletionKind.Released => "released",
        CompletionKind.Interrupted => "interrupted",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown completion kind."),
    };

    public Task<TaskCancelResult> TaskCancelAsync(TaskCancelParams parameters, CancellationToken cancellationToken) =>
        WriteSettlingAsync(async (connection, token) =>
        {
            var result = await CancelAsync(connection, parameters, token).ConfigureAwait(false);
            return (result, result.Outcome == TaskCancelOutcome.Cancelled ? [parameters.Id] : Array.Empty<long>());
        }, parameters.Now, cancellationToken);

    private static async Task<TaskCancelResult> CancelAsync(NpgsqlConnection connection, TaskCancelParams parameters, CancellationToken token)
    {
        // Each statement sees the latest committed row (READ COMMITTED), so a claim racing the stop is seen by the
        // next statement. A row that moved back to the queue in between (a retry) goes round again.
        for (var round = 0; ; round++)
        {
            await using (var cancel = new NpgsqlCommand($"""
                    UPDATE tasksystem_tasks SET state = 'cancelled', finished_at = @now, error = 'stopped before it started'
                    WHERE id = @id AND state IN ('queued', 'scheduled', 'awaiting')
                    RETURNING {Columns}
                    """, connection).Bind("id", parameters.Id).Bind("now", Utc(parameters.Now)))
            {
                if (await ReadSingleTaskAsync(cancel, token).ConfigureAwait(false) is { } cancelled)
                {
                    return new TaskCancelResult(TaskCancelOutcome.Cancelled, cancelled);
                }
            }

            await using (var flag = new NpgsqlCommand($"""
                    UPDATE tasksystem_tasks SET stop_requested = true WHERE id = @id AND state = 'running'
                    RETURNING {Columns}
                    """, connection).Bind("id", parameters.Id))
            {
                if (await ReadSingleTaskAsync(flag, token).ConfigureAwait(false) is { } flagged)
                {
                    return new TaskCancelResult(TaskCancelOutcome.StopRequested, flagged);
                }
            }

            await using var get = new NpgsqlCommand($"SELECT {Columns} FROM tasksystem_tasks WHERE id = @id", connection).Bind("id", parameters.Id);
            var task = await ReadSingleTaskAsync(get, token).ConfigureAwait(false);
            switch (task)
            {
                case null:
                    return new TaskCancelResult(TaskCancelOutcome.NotFound, null);
                case { State: TaskState.Cancelled }:
                    return new TaskCancelResult(TaskCancelOutcome.AlreadyCancelled, task);
                case { State: TaskState.Succeeded or TaskState.Failed }:
                    return new TaskCancelResult(TaskCancelOutcome.AlreadyFinished, task);
                case not null when round >= 10:
                    throw new InvalidOperationException($"Task {parameters.Id} kept changing state while being stopped; try again.");
            }
        }
    }

    /// <summary>A task with parents goes back to awaiting and is settled against them as they are now, in the same transaction.</summary>
    public Task<TaskRetryResult> TaskRetryAsync(TaskRetryParams parameters, CancellationToken cancellationToken) =>
        _database.WriteAsync(async (connection, token) =>
        {
            await using var transaction = await connection.BeginTransactionAsync(token).ConfigureAwait(false);
            var result = await RetryAsync(connection, parameters, token).ConfigureAwait(false);
            var released = 0;
            if (result.Task is { State: TaskState.Awaiting } awaiting && result.Outcome == RetryOutcome.Queued)
            {
                released = await SettleAsync(connection, [], [awaiting.Id], parameters.Now, token).ConfigureAwait(false);
                await using var get = new NpgsqlCommand($"SELECT {Columns} FROM tasksystem_tasks WHERE id = @id", connection).Bind("id", parameters.Id);
                result = result with { Task = await ReadSingleTaskAsync(get, token).ConfigureAwait(false) };
            }

            await transaction.CommitAsync(token).ConfigureAwait(false);
            Released(released);
            return result;
        }, onUncertain: null, cancellationToken);

    private async Task<TaskRetryResult> RetryAsync(NpgsqlConnection connection, TaskRetryParams parameters, CancellationToken token)
    {
        // The NOTIFY rides in the same statement, so it is sent only if the task was queued, at its commit.
        await using (var retry = new NpgsqlCommand($"""
                WITH queued AS (
                    UPDATE tasksystem_tasks SET
                        state = CASE WHEN EXISTS (SELECT 1 FROM tasksystem_task_parents WHERE child_id = @id) THEN 'awaiting' ELSE 'queued' END,
                        attempt = 0, run_at = @now, started_at = NULL, finished_at = NULL,
                        result = NULL, error = NULL, stop_requested = false, claim_id = NULL, lease_expires_at = NULL
                    WHERE id = @id AND state IN ('failed', 'cancelled')
                    RETURNING {Columns})
                SELECT *, pg_notify(@channel, @node)::text FROM queued
                """, connection)
            .Bind("id", parameters.Id)
            .Bind("now", Utc(parameters.Now))
            .Bind("channel", PostgresChannels.TasksReady)
            .Bind("node", _node))
        {
            if (await ReadSingleTaskAsync(retry, token).ConfigureAwait(false) is { } queued)
            {
                return new TaskRetryResult(RetryOutcome.Queued, queued);
            }
        }

        await using var get = new NpgsqlCommand($"SELECT {Columns} FROM tasksystem_tasks WHERE id = @id", connection).Bind("id", parameters.Id);
        var task = await ReadSingleTaskAsync(get, token).ConfigureAwait(false);
        return new TaskRetryResult(task is null ? RetryOutcome.NotFound : RetryOutcome.NotRetryable, task);
    }

    public Task<IReadOnlyList<RescuedTask>> TasksRescueAsync(TasksRescueParams parameters, CancellationToken cancellationToken) =>
        WriteSettlingAsync<IReadOnlyList<RescuedTask>>(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand(RescueSql, connection)
                .Bind("all_running", parameters.AllRunning)
                .Bind("rescuer", parameters.Rescuer)
                .Bind("now", Utc(parameters.Now))
                .Bind("now_ms", Ms(parameters.Now))
                .Bind("all_of_node", parameters.AllOfNode)
                .Bind("held", parameters.Held?.ToArray())
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
