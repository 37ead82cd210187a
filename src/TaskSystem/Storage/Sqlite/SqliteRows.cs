using Microsoft.Data.Sqlite;

namespace TaskSystem.Storage.Sqlite;

/// <summary>Maps rows of the tasks table; times are Unix milliseconds.</summary>
internal static class SqliteRows
{
    public const string Columns =
        "id, type, queue, priority, payload, state, attempt, max_attempts, timeout_ms, created_at, run_at, " +
        "started_at, finished_at, result, error, errors, node, claim_id, lease_expires_at, stop_requested, trace_parent, " +
        "idempotency_key, schedule, scheduled_for";

    public static TaskRecord ReadTask(SqliteDataReader reader) => new()
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
        CreatedAt = Time(reader.GetInt64(9)),
        RunAt = Time(reader.GetInt64(10)),
        StartedAt = NullableTime(reader, 11),
        FinishedAt = NullableTime(reader, 12),
        ResultJson = NullableString(reader, 13),
        Error = NullableString(reader, 14),
        ErrorsJson = NullableString(reader, 15),
        Node = NullableString(reader, 16),
        ClaimId = reader.IsDBNull(17) ? null : reader.GetInt64(17),
        LeaseExpiresAt = NullableTime(reader, 18),
        StopRequested = reader.GetInt64(19) != 0,
        TraceParent = NullableString(reader, 20),
        Key = NullableString(reader, 21),
        Schedule = NullableString(reader, 22),
        ScheduledFor = NullableTime(reader, 23),
    };

    public static List<TaskRecord> ReadTasks(SqliteCommand command)
    {
        var tasks = new List<TaskRecord>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            tasks.Add(ReadTask(reader));
        }

        return tasks;
    }

    public static TaskRecord? ReadSingleTask(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadTask(reader) : null;
    }

    public static TaskState ParseState(string value) =>
        TaskStates.TryParse(value, out var state) ? state : throw new InvalidDataException($"Unknown task state '{value}' in the database.");

    public static long Ms(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    public static DateTimeOffset Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static DateTimeOffset? NullableTime(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : Time(reader.GetInt64(ordinal));

    private static string? NullableString(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static SqliteCommand Bind(this SqliteCommand command, string name, object? value)
    {
        command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }
}
