using Npgsql;
using TaskSystem.Storage;

namespace TaskSystem.PostgreSql;

/// <summary>Maps rows of the tasks table. Times are timestamptz (microseconds, UTC).</summary>
internal static class PostgresRows
{
    public const string Columns =
        "id, type, queue, priority, payload, state, attempt, max_attempts, timeout_ms, created_at, run_at, " +
        "started_at, finished_at, result, error, errors, node, claim_id, lease_expires_at, stop_requested, trace_parent, " +
        "idempotency_key, schedule, scheduled_for";

    /// <summary>The columns of the table aliased <c>t</c>, for statements that join (UPDATE … FROM).</summary>
    public const string AliasedColumns =
        "t.id, t.type, t.queue, t.priority, t.payload, t.state, t.attempt, t.max_attempts, t.timeout_ms, t.created_at, t.run_at, " +
        "t.started_at, t.finished_at, t.result, t.error, t.errors, t.node, t.claim_id, t.lease_expires_at, t.stop_requested, t.trace_parent, " +
        "t.idempotency_key, t.schedule, t.scheduled_for";

    public static TaskRecord ReadTask(NpgsqlDataReader reader) => new()
    {
        Id = reader.GetInt64(0),
        Type = reader.GetString(1),
        Queue = reader.GetString(2),
        Priority = reader.GetInt32(3),
        PayloadJson = reader.GetString(4),
        State = ParseState(reader.GetString(5)),
        Attempt = reader.GetInt32(6),
        MaxAttempts = reader.GetInt32(7),
        Timeout = TimeSpan.FromMilliseconds(reader.GetInt64(8)),
        CreatedAt = reader.GetFieldValue<DateTimeOffset>(9),
        RunAt = reader.GetFieldValue<DateTimeOffset>(10),
        StartedAt = NullableTime(reader, 11),
        FinishedAt = NullableTime(reader, 12),
        ResultJson = NullableString(reader, 13),
        Error = NullableString(reader, 14),
        ErrorsJson = NullableString(reader, 15),
        Node = NullableString(reader, 16),
        ClaimId = reader.IsDBNull(17) ? null : reader.GetInt64(17),
        LeaseExpiresAt = NullableTime(reader, 18),
        StopRequested = reader.GetBoolean(19),
        TraceParent = NullableString(reader, 20),
        Key = NullableString(reader, 21),
        Schedule = NullableString(reader, 22),
        ScheduledFor = NullableTime(reader, 23),
    };

    public static async Task<List<TaskRecord>> ReadTasksAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var tasks = new List<TaskRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            tasks.Add(ReadTask(reader));
        }

        return tasks;
    }

    public static async Task<TaskRecord?> ReadSingleTaskAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadTask(reader) : null;
    }

    public static TaskState ParseState(string value) =>
        TaskStates.TryParse(value, out var state) ? state : throw new InvalidDataException($"Unknown task state '{value}' in the database.");

    /// <summary>
    /// UTC, truncated to the microsecond timestamptz keeps: Npgsql refuses other offsets, and what a caller gets
    /// back must be what a later read returns.
    /// </summary>
    public static DateTimeOffset Utc(DateTimeOffset time)
    {
        var ticks = time.UtcTicks;
        return new DateTimeOffset(ticks - (ticks % 10), TimeSpan.Zero);
    }

    public static long Ms(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    /// <summary>PostgreSQL text cannot hold NUL; an error message from a handler might.</summary>
    public static string? Text(string? value) => value is not null && value.Contains('\0', StringComparison.Ordinal) ? value.Replace('\0', '\uFFFD') : value;

    private static DateTimeOffset? NullableTime(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);

    private static string? NullableString(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static NpgsqlCommand Bind<T>(this NpgsqlCommand command, string name, T value)
    {
        command.Parameters.Add(new NpgsqlParameter<T>(name, value));
        return command;
    }
}
