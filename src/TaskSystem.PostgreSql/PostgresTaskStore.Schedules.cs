using Npgsql;
using TaskSystem.Storage;
using static TaskSystem.PostgreSql.PostgresRows;

namespace TaskSystem.PostgreSql;

/// <summary>
/// Recurring schedules. Every node runs a scheduler and fires each tick; the UPDATE that moves a schedule on is
/// fenced on the tick it waits for, so the first node's commit wins and a racing node's UPDATE (which waits on the
/// row lock, then re-reads it) finds the row moved and does nothing.
/// </summary>
internal sealed partial class PostgresTaskStore
{
    /// <summary>
    /// Ends a statement that changed a schedule's definition or pause (rows <c>written</c> or <c>gone</c>): tells the
    /// other nodes' schedulers to read the schedules again, in the same commit, so they never read before the change.
    /// Firing a tick sends nothing: the other nodes' timers already wait for the tick after it.
    /// </summary>
    private const string NotifyScheduleChanged = $"SELECT *, pg_notify('{PostgresChannels.Schedules}', @node)::text";

    private const string ScheduleColumns =
        "name, cron, time_zone, every_ms, template, paused, overlap, misfire, next_run_at, last_run_at, last_task_id, updated_at";

    public Task<IReadOnlyList<ScheduleRecord>> SchedulesListAsync(CancellationToken cancellationToken) =>
        _database.ReadAsync<IReadOnlyList<ScheduleRecord>>(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand($"SELECT {ScheduleColumns} FROM tasksystem_schedules ORDER BY name", connection);
            return await ReadSchedulesAsync(command, token).ConfigureAwait(false);
        }, cancellationToken);

    public Task<ScheduleRecord?> ScheduleGetAsync(string name, CancellationToken cancellationToken) =>
        _database.ReadAsync(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand($"SELECT {ScheduleColumns} FROM tasksystem_schedules WHERE name = @name", connection).Bind("name", name);
            return (await ReadSchedulesAsync(command, token).ConfigureAwait(false)).SingleOrDefault();
        }, cancellationToken);

    public Task<ScheduleRecord> ScheduleUpsertAsync(ScheduleUpsertParams parameters, CancellationToken cancellationToken) =>
        _database.WriteAsync(async (connection, token) =>
        {
            var s = parameters.Schedule;
            await using var command = new NpgsqlCommand($"""
                WITH written AS (
                INSERT INTO tasksystem_schedules AS s (name, cron, time_zone, every_ms, template, paused, overlap, misfire, next_run_at, updated_at)
                VALUES (@name, @cron, @time_zone, @every_ms, @template, @paused, @overlap, @misfire, @next_run_at, @updated_at)
                ON CONFLICT (name) DO UPDATE SET
                    next_run_at = CASE WHEN s.cron IS NOT DISTINCT FROM excluded.cron AND s.time_zone = excluded.time_zone
                                            AND s.every_ms IS NOT DISTINCT FROM excluded.every_ms AND s.paused = excluded.paused
                                       THEN s.next_run_at ELSE excluded.next_run_at END,
                    cron = excluded.cron, time_zone = excluded.time_zone, every_ms = excluded.every_ms, template = excluded.template,
                    paused = excluded.paused, overlap = excluded.overlap, misfire = excluded.misfire, updated_at = excluded.updated_at
                RETURNING {ScheduleColumns})
                {NotifyScheduleChanged} FROM written
                """, connection)
                .Bind("name", s.Name)
                .Bind("cron", s.Cron)
                .Bind("time_zone", s.TimeZone)
                .Bind("every_ms", s.Every is { } every ? (long)every.TotalMilliseconds : (long?)null)
                .Bind("template", s.TemplateJson)
                .Bind("paused", s.Paused)
                .Bind("overlap", s.Overlap)
                .Bind("misfire", s.Misfire)
                .Bind("next_run_at", s.NextRunAt is { } next ? Utc(next) : (DateTimeOffset?)null)
                .Bind("updated_at", Utc(s.UpdatedAt))
                .Bind("node", _node);
            return (await ReadSchedulesAsync(command, token).ConfigureAwait(false)).Single();
        }, onUncertain: null, cancellationToken);

    public Task<bool> ScheduleDeleteAsync(string name, CancellationToken cancellationToken) =>
        _database.WriteAsync(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand($"""
                WITH gone AS (DELETE FROM tasksystem_schedules WHERE name = @name RETURNING name)
                {NotifyScheduleChanged} FROM gone
                """, connection).Bind("name", name).Bind("node", _node);
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            return await reader.ReadAsync(token).ConfigureAwait(false);
        }, onUncertain: null, cancellationToken);

    public Task<ScheduleRecord?> SchedulePauseAsync(SchedulePauseParams parameters, CancellationToken cancellationToken) =>
        _database.WriteAsync(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand($"""
                WITH written AS (
                UPDATE tasksystem_schedules SET paused = @paused, next_run_at = CASE WHEN @paused THEN next_run_at ELSE @next_run_at END
                WHERE name = @name
                RETURNING {ScheduleColumns})
                {NotifyScheduleChanged} FROM written
                """, connection)
                .Bind("name", parameters.Name)
                .Bind("node", _node)
                .Bind("paused", parameters.Paused)
                .Bind("next_run_at", parameters.NextRunAt is { } next ? Utc(next) : (DateTimeOffset?)null);
            return (await ReadSchedulesAsync(command, token).ConfigureAwait(false)).SingleOrDefault();
        }, onUncertain: null, cancellationToken);

    public Task<ScheduleFireResult> ScheduleFireAsync(ScheduleFireParams parameters, CancellationToken cancellationToken) =>
        _database.WriteAsync(async (connection, token) =>
        {
            await using var transaction = await connection.BeginTransactionAsync(token).ConfigureAwait(false);
            long? previous;
            await using (var moved = new NpgsqlCommand("""
                UPDATE tasksystem_schedules SET next_run_at = @next, last_run_at = @tick
                WHERE name = @name AND NOT paused AND next_run_at = @expected
                RETURNING last_task_id
                """, connection, transaction)
                .Bind("name", parameters.Name)
                .Bind("expected", Utc(parameters.Expected))
                .Bind("tick", Utc(parameters.Tick))
                .Bind("next", parameters.NextRunAt is { } next ? Utc(next) : (DateTimeOffset?)null))
            {
                await using var reader = await moved.ExecuteReaderAsync(token).ConfigureAwait(false);
                if (!await reader.ReadAsync(token).ConfigureAwait(false))
                {
                    return new ScheduleFireResult(ScheduleFireOutcome.Lost, null, null);
                }

                previous = reader.IsDBNull(0) ? null : reader.GetInt64(0);
            }

            TaskRecord? task = null;
            if (parameters.Task is { } newTask && !(parameters.SkipWhileUnfinished && previous is { } id && await IsUnfinishedAsync(connection, transaction, id, token).ConfigureAwait(false)))
            {
                await using var insert = new NpgsqlBatch(connection, transaction);
                PostgresInsertBatcher.AddInsertCommands(insert, [newTask]);
                var notify = new NpgsqlBatchCommand("SELECT pg_notify(@channel, @node)");
                notify.Parameters.Add(new NpgsqlParameter<string>("channel", PostgresChannels.TasksReady));
                notify.Parameters.Add(new NpgsqlParameter<string>("node", _node));
                insert.BatchCommands.Add(notify);
                task = (await PostgresInsertBatcher.ReadInsertedAsync(insert, [newTask], token).ConfigureAwait(false))?.Single()
                    ?? throw new InvalidOperationException($"The task of schedule '{parameters.Name}' at {parameters.Tick:O} was neither inserted nor found.");
                await using var link = new NpgsqlCommand("UPDATE tasksystem_schedules SET last_task_id = @task WHERE name = @name", connection, transaction)
                    .Bind("name", parameters.Name)
                    .Bind("task", task.Id);
                await link.ExecuteNonQueryAsync(token).ConfigureAwait(false);
            }

            await using var read = new NpgsqlCommand($"SELECT {ScheduleColumns} FROM tasksystem_schedules WHERE name = @name", connection, transaction)
                .Bind("name", parameters.Name);
            var after = (await ReadSchedulesAsync(read, token).ConfigureAwait(false)).Single();
            await transaction.CommitAsync(token).ConfigureAwait(false);
            return new ScheduleFireResult(task is null ? ScheduleFireOutcome.Skipped : ScheduleFireOutcome.Fired, task, after);
        }, onUncertain: null, cancellationToken);

    private static async Task<bool> IsUnfinishedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long id, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT 1 FROM tasksystem_tasks WHERE id = @id AND {Unfinished}", connection, transaction).Bind("id", id);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null;
    }

    private static async Task<List<ScheduleRecord>> ReadSchedulesAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var schedules = new List<ScheduleRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            schedules.Add(new ScheduleRecord(
                reader.GetString(0),
                reader.IsDBNull(1) ? null : reader.GetString(1),
                reader.GetString(2),
                reader.IsDBNull(3) ? null : TimeSpan.FromMilliseconds(reader.GetInt64(3)),
                reader.GetString(4),
                reader.GetBoolean(5),
                reader.GetString(6),
                reader.GetString(7),
                reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8),
                reader.IsDBNull(9) ? null : reader.GetFieldValue<DateTimeOffset>(9),
                reader.IsDBNull(10) ? null : reader.GetInt64(10),
                reader.GetFieldValue<DateTimeOffset>(11)));
        }

        return schedules;
    }
}
