using System.Text.Json;
using System.Text.Json.Serialization;

namespace TaskSystem.AspNetCore.Http;

/// <summary>The answer to <c>POST /workers/claim</c>: the tasks claimed, none when the long poll ran out.</summary>
internal sealed record ClaimResponse(IReadOnlyList<ClaimedTaskResponse> Tasks);

/// <summary>A task handed to an external worker: what to run, and the lease to show when reporting on it.</summary>
internal sealed record ClaimedTaskResponse(
    long Id,
    string Type,
    string Queue,
    int Priority,
    RawJson Payload,
    int Attempt,
    int MaxAttempts,
    double TimeoutSeconds,
    DateTimeOffset CreatedAt,
    string LeaseToken,
    DateTimeOffset LeaseExpiresAt);

/// <summary>
/// JSON text stored by the engine (a payload it checked when it accepted the task), written into an answer as it is:
/// a claim of a hundred tasks then parses no payload.
/// </summary>
[JsonConverter(typeof(RawJsonConverter))]
internal readonly record struct RawJson(string Text);

/// <summary>Writes <see cref="RawJson"/> verbatim; answers are never read back.</summary>
internal sealed class RawJsonConverter : JsonConverter<RawJson>
{
    public override RawJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("RawJson is written, never read.");

    public override void Write(Utf8JsonWriter writer, RawJson value, JsonSerializerOptions options) =>
        writer.WriteRawValue(value.Text, skipInputValidation: true);
}

/// <summary>The answer to a heartbeat: when the lease now ends, and whether the task should stop.</summary>
internal sealed record HeartbeatResponse(bool StopRequested, DateTimeOffset LeaseExpiresAt);

/// <summary>The answer to a complete or fail: the state the task is in now (and when a retry is due).</summary>
internal sealed record ReportResponse(long Id, string State, DateTimeOffset? RunAt);

/// <summary>The answer to <c>POST /workers/report</c>: one item per report, in the order sent.</summary>
internal sealed record ReportsResponse(IReadOnlyList<ReportItemResponse> Reports);

/// <summary>One report's answer: the state the task is now in, or why nothing was recorded for it.</summary>
internal sealed record ReportItemResponse(long Id, string? State, DateTimeOffset? RunAt, ReportRefusalResponse? Refused);

/// <summary>
/// Why a report in a batch was not recorded: the status, reason and detail a report of that task alone would have
/// answered (404 <c>notFound</c>; 409 <c>stopped</c>, <c>leaseLost</c> or <c>finished</c>).
/// </summary>
internal sealed record ReportRefusalResponse(int Status, string Reason, string Detail, string? State);

/// <summary>Source-generated JSON for the worker protocol's answers.</summary>
[JsonSerializable(typeof(ClaimResponse))]
[JsonSerializable(typeof(HeartbeatResponse))]
[JsonSerializable(typeof(ReportResponse))]
[JsonSerializable(typeof(ReportsResponse))]
internal sealed partial class WorkersJsonContext : JsonSerializerContext
{
    /// <summary>Web naming (camelCase); absent values (a report's <c>runAt</c>) are left out rather than written as null.</summary>
    public static WorkersJsonContext Wire { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    });
}
