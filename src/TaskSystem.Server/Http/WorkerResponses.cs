using System.Text.Json;
using System.Text.Json.Serialization;

namespace TaskSystem.Server.Http;

/// <summary>The answer to <c>POST /workers/claim</c>: the tasks claimed, none when the long poll ran out.</summary>
internal sealed record ClaimResponse(IReadOnlyList<ClaimedTaskResponse> Tasks);

/// <summary>A task handed to an external worker: what to run, and the lease to show when reporting on it.</summary>
internal sealed record ClaimedTaskResponse(
    long Id,
    string Type,
    string Queue,
    int Priority,
    JsonElement Payload,
    int Attempt,
    int MaxAttempts,
    double TimeoutSeconds,
    DateTimeOffset CreatedAt,
    string LeaseToken,
    DateTimeOffset LeaseExpiresAt);

/// <summary>The answer to a heartbeat: when the lease now ends, and whether the task should stop.</summary>
internal sealed record HeartbeatResponse(bool StopRequested, DateTimeOffset LeaseExpiresAt);

/// <summary>The answer to a complete or fail: the state the task is in now (and when a retry is due).</summary>
internal sealed record ReportResponse(long Id, string State, DateTimeOffset? RunAt);

/// <summary>Source-generated JSON for the worker protocol's answers.</summary>
[JsonSerializable(typeof(ClaimResponse))]
[JsonSerializable(typeof(HeartbeatResponse))]
[JsonSerializable(typeof(ReportResponse))]
internal sealed partial class WorkersJsonContext : JsonSerializerContext
{
    /// <summary>
    /// Web naming; payloads were checked against TaskSystem:MaxJsonDepth when stored, and a task wraps them deeper,
    /// so the writer allows the read-back depth (as the rest of the API does).
    /// </summary>
    public static WorkersJsonContext Wire { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        MaxDepth = JsonLimits.ReadBack.MaxDepth,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    });
}
