using Npgsql;
using TaskSystem.Storage;
using static TaskSystem.PostgreSql.PostgresRows;

namespace TaskSystem.PostgreSql;

/// <summary>
/// Continuations (migration 7): the <c>tasksystem_task_parents</c> links, and the settling of awaiting children in the
/// transaction of every write that finishes their parents (see <see cref="ITaskStore"/>'s continuation members).
/// </summary>
/// <remarks>
/// Races between nodes resolve on row locks, each step in a statement of its own so that it reads what committed
/// while it waited (READ COMMITTED takes a snapshot per statement):
/// an insert holds its parents FOR SHARE until it commits, so a parent's outcome (an UPDATE of that row) waits for
/// the child to exist, and the next statement of the finishing write sees the child; a finishing write locks the
/// awaiting children FOR UPDATE before reading their parents, so two parents finishing at once on two nodes settle a
/// shared child one after the other, and the second sees the first's outcome.
/// </remarks>
internal sealed partial class PostgresTaskStore
{
    /// <summary>
    /// Settles the awaiting children of <c>@parents</c> and the given <c>@children</c> (migration 8's function: lock,
    /// cancel, release, cascade), returning how many were released, with the "tasks are ready" signal in the same commit.
    /// </summary>
    internal const string SettleSql = "SELECT tasksystem_settle(@parents, @children, @now, @channel, @node)";

    public Action? TasksReleased { get; set; }

    public Task<IReadOnlyList<TaskParentRecord>> TaskParentsListAsync(long id, CancellationToken cancellationToken) =>
        _database.ReadAsync<IReadOnlyList<TaskParentRecord>>(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand("""
                SELECT p.id, p.type, p.state, p.result, p.error, l.any_outcome
                FROM tasksystem_task_parents AS l JOIN tasksystem_tasks AS p ON p.id = l.parent_id
                WHERE l.child_id = @id ORDER BY p.id
                """, connection).Bind("id", id);
            var parents = new List<TaskParentRecord>();
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                parents.Add(new TaskParentRecord(
                    reader.GetInt64(0),
                    reader.GetString(1),
                    ParseState(reader.GetString(2)),
                    reader.IsDBNull(3) ? null : reader.GetString(3),
                    reader.IsDBNull(4) ? null : reader.GetString(4),
                    reader.GetBoolean(5)));
            }

            return parents;
        }, cancellationToken);

    /// <summary>
    /// Inserts tasks of which some are continuations, in one transaction: parents checked and held FOR SHARE, rows
    /// inserted, links written, children settled against their parents at once. Not through the insert batcher: each
    /// such insert needs its own transaction (a missing parent refuses only its own request).
    /// </summary>
    private Task<IReadOnlyList<TaskRecord>> TasksInsertWithParentsAsync(IReadOnlyList<NewTask> tasks, CancellationToken cancellationToken) =>
        _database.WriteAsync<IReadOnlyList<TaskRecord>>(async (connection, token) =>
        {
            await using var transaction = await connection.BeginTransactionAsync(token).ConfigureAwait(false);
            var parents = tasks.SelectMany(t => t.After ?? []).Distinct().ToArray();
            var found = new HashSet<long>();
            await using (var hold = new NpgsqlCommand("SELECT id FROM tasksystem_tasks WHERE id = ANY(@ids) ORDER BY id FOR SHARE", connection).Bind("ids", parents))
            {
                found.UnionWith(await ReadIdsAsync(hold, token).ConfigureAwait(false));
            }

            for (var i = 0; i < tasks.Count; i++)
            {
                if (tasks[i].After?.Where(id => !found.Contains(id)).Order().FirstOrDefault() is > 0 and var missing)
                {
                    throw new TaskValidationException("after", $"after names task {missing}, which does not exist.") { Index = tasks.Count > 1 ? i : null };
                }
            }

            await using var insert = new NpgsqlBatch(connection, transaction);
            PostgresInsertBatcher.AddInsertCommands(insert, tasks);
            if (tasks.Any(t => t.InitialState == TaskState.Queued))
            {
                var notify = new NpgsqlBatchCommand("SELECT pg_notify(@channel, @node)");
                notify.Parameters.Add(new NpgsqlParameter<string>("channel", PostgresChannels.TasksReady));
                notify.Parameters.Add(new NpgsqlParameter<string>("node", _node));
                insert.BatchCommands.Add(notify);
            }

            var records = await PostgresInsertBatcher.ReadInsertedAsync(insert, tasks, token).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"The insert's rows did not match the {tasks.Count} tasks sent.");
            var children = Enumerable.Range(0, tasks.Count).Where(i => !records[i].Existing && tasks[i].After is { Length: > 0 }).ToList();
            await using (var link = new NpgsqlCommand("""
                INSERT INTO tasksystem_task_parents (child_id, parent_id, any_outcome)
                SELECT * FROM unnest(@child::bigint[], @parent::bigint[], @any::boolean[])
                """, connection)
                .Bind("child", children.SelectMany(i => tasks[i].After!.Select(_ => records[i].Id)).ToArray())
                .Bind("parent", children.SelectMany(i => tasks[i].After!).ToArray())
                .Bind("any", children.SelectMany(i => tasks[i].After!.Select(_ => tasks[i].AnyOutcome)).ToArray()))
            {
                await link.ExecuteNonQueryAsync(token).ConfigureAwait(false);
            }

            var childIds = children.Select(i => records[i].Id).ToArray();
            var released = await SettleAsync(connection, [], childIds, tasks[0].CreatedAt, token).ConfigureAwait(false);
            await using (var read = new NpgsqlCommand($"SELECT {Columns} FROM tasksystem_tasks WHERE id = ANY(@ids)", connection).Bind("ids", childIds))
            {
                var settled = (await ReadTasksAsync(read, token).ConfigureAwait(false)).ToDictionary(t => t.Id);
                foreach (var i in children)
                {
                    records[i] = settled[records[i].Id];
                }
            }

            await transaction.CommitAsync(token).ConfigureAwait(false);
            Released(released);
            return records;
        }, onUncertain: null, cancellationToken);

    /// <summary>
    /// Settles, inside the caller's transaction, the awaiting children of <paramref name="parents"/> (tasks this write
    /// may have finished) and the given <paramref name="children"/>; then the children of those it cancelled, and so
    /// on, in one round trip. Returns how many became queued or scheduled.
    /// </summary>
    private async Task<int> SettleAsync(NpgsqlConnection connection, long[] parents, long[] children, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var settle = new NpgsqlCommand(SettleSql, connection);
        AddSettleParameters(settle.Parameters, parents, children, now);
        return (int)(await settle.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>The parameters of <see cref="SettleSql"/>.</summary>
    private void AddSettleParameters(NpgsqlParameterCollection parameters, long[] parents, long[] children, DateTimeOffset now)
    {
        parameters.Add(new NpgsqlParameter<long[]>("parents", parents));
        parameters.Add(new NpgsqlParameter<long[]>("children", children));
        parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", Utc(now)));
        parameters.Add(new NpgsqlParameter<string>("channel", PostgresChannels.TasksReady));
        parameters.Add(new NpgsqlParameter<string>("node", _node));
    }

    /// <summary>
    /// Runs a finishing write in a transaction: <paramref name="work"/> returns its result and the tasks it may have
    /// finished, whose children are settled before the commit; this node is told of releases after it.
    /// </summary>
    private Task<T> WriteSettlingAsync<T>(
        Func<NpgsqlConnection, CancellationToken, Task<(T Result, long[] Finished)>> work, DateTimeOffset now, CancellationToken cancellationToken) =>
        _database.WriteAsync(async (connection, token) =>
        {
            await using var transaction = await connection.BeginTransactionAsync(token).ConfigureAwait(false);
            var (result, finished) = await work(connection, token).ConfigureAwait(false);
            var released = finished.Length == 0 ? 0 : await SettleAsync(connection, finished, [], now, token).ConfigureAwait(false);
            await transaction.CommitAsync(token).ConfigureAwait(false);
            Released(released);
            return result;
        }, onUncertain: null, cancellationToken);

    /// <summary>Tells this node that continuations were released (other nodes hear the NOTIFY of the same commit).</summary>
    private void Released(int count)
    {
        if (count > 0)
        {
            TasksReleased?.Invoke();
        }
    }

    private static async Task<List<long>> ReadIdsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var ids = new List<long>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }
}
