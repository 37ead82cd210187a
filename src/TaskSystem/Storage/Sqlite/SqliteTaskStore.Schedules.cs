using Microsoft.Data.Sqlite;
using static TaskSystem.Storage.Sqlite.SqliteRows;

namespace TaskSystem.Storage.Sqlite;

/// <summary>Recurring schedules: rows of their own, fired in the writer's transactions (one writer: no race to lose).</summary>
internal sealed partial class SqliteTaskStore
{
    private const string ScheduleColumns =
        "name, cron, time_zone, every_ms, template, paused, overlap, misfire, next_run_at, last_run_at, last_task_id, updated_at";

    public Task<IReadOnlyList<ScheduleRecord>> SchedulesListAsync(CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<ScheduleRecord>>(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {ScheduleColumns} FROM schedules ORDER BY name";
            return ReadSchedules(command);
        }, cancellationToken);

    public Task<ScheduleRecord?> ScheduleGetAsync(string name, CancellationToken cancellationToken) =>
        ReadAsync(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {ScheduleColumns} FROM schedules WHERE name = $name";
            return ReadSchedules(command.Bind("$name", name)).SingleOrDefault();
        }, cancellationToken);

    public Task<ScheduleRecord> ScheduleUpsertAsync(ScheduleUpsertParams parameters, CancellationToken cancellationToken) =>
        WriteAsync(context =>
        {
            var s = parameters.Schedule;
            return ReadSchedules(context.Command($"""
                INSERT INTO schedules (name, cron, time_zone, every_ms, template, paused, overlap, misfire, next_run_at, updated_at)
                VALUES ($name, $cron, $time_zone, $every_ms, $template, $paused, $overlap, $misfire, $next_run_at, $updated_at)
                ON CONFLICT (name) DO UPDATE SET
                    next_run_at = CASE WHEN cron IS excluded.cron AND time_zone = excluded.time_zone AND every_ms IS excluded.every_ms
                                            AND paused = excluded.paused
                                       THEN next_run_at ELSE excluded.next_run_at END,
                    cron = excluded.cron, time_zone = excluded.time_zone, every_ms = excluded.every_ms, template = excluded.template,
                    paused = excluded.paused, overlap = excluded.overlap, misfire = excluded.misfire, updated_at = excluded.updated_at
                RETURNING {ScheduleColumns}
                """)
                .Bind("$name", s.Name)
                .Bind("$cron", s.Cron)
                .Bind("$time_zone", s.TimeZone)
                .Bind("$every_ms", s.Every is { } every ? (long)every.TotalMilliseconds : null)
                .Bind("$template", s.TemplateJson)
                .Bind("$paused", s.Paused ? 1 : 0)
                .Bind("$overlap", s.Overlap)
                .Bind("$misfire", s.Misfire)
                .Bind("$next_run_at", s.NextRunAt is { } next ? Ms(next) : null)
                .Bind("$updated_at", Ms(s.UpdatedAt))).Single();
        }, cancellationToken, singleStatement: true, durable: true);

    public Task<bool> ScheduleDeleteAsync(string name, CancellationToken cancellationToken) =>
        WriteAsync(context => context.Command("DELETE FROM schedules WHERE name = $name").Bind("$name", name).ExecuteNonQuery() > 0,
            cancellationToken, singleStatement: true, durable: true);

    public Task<ScheduleRecord?> SchedulePauseAsync(SchedulePauseParams parameters, CancellationToken cancellationToken) =>
        WriteAsync(context => ReadSchedules(context.Command($"""
                UPDATE schedules SET paused = $paused, next_run_at = CASE WHEN $paused THEN next_run_at ELSE $next_run_at END
                WHERE name = $name
                RETURNING {ScheduleColumns}
                """)
                .Bind("$name", parameters.Name)
                .Bind("$paused", parameters.Paused ? 1 : 0)
                .Bind("$next_run_at", parameters.NextRunAt is { } next ? Ms(next) : null)).SingleOrDefault(),
            cancellationToken, singleStatement: true, durable: true);

    public Task<ScheduleFireResult> ScheduleFireAsync(ScheduleFireParams parameters, CancellationToken cancellationToken) =>
        WriteAsync(context =>
        {
            var moved = context.Command("""
                UPDATE schedules SET next_run_at = $next, last_run_at = $tick
                WHERE name = $name AND paused = 0 AND next_run_at = $expected
                RETURNING last_task_id
                """)
                .Bind("$name", parameters.Name)
                .Bind("$expected", Ms(parameters.Expected))
                .Bind("$tick", Ms(parameters.Tick))
                .Bind("$next", parameters.NextRunAt is { } next ? Ms(next) : null);
            long? previous;
            using (var reader = moved.ExecuteReader())
            {
                if (!reader.Read())
                {
                    return new ScheduleFireResult(ScheduleFireOutcome.Lost, null, null);
                }

                previous = reader.IsDBNull(0) ? null : reader.GetInt64(0);
            }

            TaskRecord? task = null;
            if (parameters.Task is { } newTask && !(parameters.SkipWhileUnfinished && previous is { } id && IsUnfinished(context, id)))
            {
                task = InsertTask(context, newTask);
                context.Command("UPDATE schedules SET last_task_id = $task WHERE name = $name")
                    .Bind("$name", parameters.Name)
                    .Bind("$task", task.Id)
                    .ExecuteNonQuery();
            }

            var after = ReadSchedules(context.Command($"SELECT {ScheduleColumns} FROM schedules WHERE name = $name").Bind("$name", parameters.Name)).Single();
            return new ScheduleFireResult(task is null ? ScheduleFireOutcome.Skipped : ScheduleFireOutcome.Fired, task, after);
        }, cancellationToken, durable: true, grows: true);

    private static bool IsUnfinished(SqliteWriteContext context, long id) =>
        context.Command($"SELECT 1 FROM tasks WHERE id = $id AND {Unfinished}").Bind("$id", id).ExecuteScalar() is not null;

    private static List<ScheduleRecord> ReadSchedules(SqliteCommand command)
    {
        var schedules = new List<ScheduleRecord>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            schedules.Add(new ScheduleRecord(
                reader.GetString(0),
                reader.IsDBNull(1) ? null : reader.GetString(1),
                reader.GetString(2),
                reader.IsDBNull(3) ? null : TimeSpan.FromMilliseconds(reader.GetInt64(3)),
                reader.GetString(4),
                reader.GetInt64(5) != 0,
                reader.GetString(6),
                reader.GetString(7),
                reader.IsDBNull(8) ? null : Time(reader.GetInt64(8)),
                reader.IsDBNull(9) ? null : Time(reader.GetInt64(9)),
                reader.IsDBNull(10) ? null : reader.GetInt64(10),
                Time(reader.GetInt64(11))));
        }

        return schedules;
    }
}
