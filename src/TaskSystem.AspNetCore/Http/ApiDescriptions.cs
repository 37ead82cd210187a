using System.ComponentModel;
using System.Text.Json;

namespace TaskSystem.AspNetCore.Http;

/// <summary>
/// What the endpoints' OpenAPI description says about request bodies the handlers read by hand (any content type,
/// strict field checks): these types are never deserialized, they only give the document its schemas. Each endpoint
/// declares its body with <c>.Accepts&lt;T&gt;(JsonOrAny)</c> where it is mapped, and an example with
/// <see cref="RequestBodyExample"/>.
/// </summary>
internal static class ApiDescriptions
{
    /// <summary>
    /// The body is read as JSON whatever its content type: <c>*/*</c> beside <c>application/json</c> keeps routing from
    /// answering 415 to <c>curl -d</c>'s form content type, and tells readers of the document the same.
    /// </summary>
    public static readonly string[] JsonOrAny = ["application/json", "*/*"];
}

/// <summary>An example request body for an endpoint, written into its OpenAPI document by the host that serves one.</summary>
internal sealed record RequestBodyExample(string Json);

// Records with init-only properties rather than positional ones: a constructor parameter reads as "required" to
// the document's generator, and most of these fields are optional.

[Description("A task to enqueue. All fields but type are optional. A JSON object without type is the payload of a task of the API's default type (the server's demo), as in the seed.")]
internal sealed record TaskEnvelopeBody
{
    [Description("The task type: the name of a registered handler (or of an external worker's type).")]
    public string? Type { get; init; }

    [Description("The handler's input: a JSON object, at most MaxPayloadBytes.")]
    public JsonElement? Payload { get; init; }

    [Description("The queue (default: default).")]
    public string? Queue { get; init; }

    [Description("Lower runs first, -1000 to 1000 (default 0).")]
    public int? Priority { get; init; }

    [Description("Attempts before the task fails (default: the type's, else 3).")]
    public int? MaxAttempts { get; init; }

    [Description("How long an attempt may run before it is cancelled.")]
    public double? TimeoutSeconds { get; init; }

    [Description("Do not start before this instant (ISO 8601 with an offset).")]
    public DateTimeOffset? RunAt { get; init; }

    [Description("An idempotency key: while a task enqueued with it is kept, the same key returns that task (200) instead of adding one.")]
    public string? Key { get; init; }

    [Description("A continuation's parents: ids of existing tasks (at most MaxParents, no duplicates). The task waits in the awaiting state until they have finished as afterPolicy asks.")]
    public IReadOnlyList<long>? After { get; init; }

    [Description("allSucceeded (default): run once every parent succeeded, cancelled if one fails for good or is cancelled; anyOutcome: run once every parent finished.")]
    public string? AfterPolicy { get; init; }
}

[Description("Claim up to max tasks of the given types under a lease (a long poll of up to waitSeconds).")]
internal sealed record ClaimBody
{
    [Description("The worker's name, shown as the task's node.")]
    public required string Worker { get; init; }

    [Description("The task types this worker runs (declared in TaskSystem:ExternalTypes).")]
    public required IReadOnlyList<string> Types { get; init; }

    [Description("Only these queues (default: all).")]
    public IReadOnlyList<string>? Queues { get; init; }

    [Description("The most tasks to claim (default 1).")]
    public int? Max { get; init; }

    [Description("How long to wait for a task when none is ready (0 to 30 s).")]
    public double? WaitSeconds { get; init; }

    [Description("The lease's length (default: TaskSystem:ExternalLeaseDuration).")]
    public double? LeaseSeconds { get; init; }
}

[Description("Extend the lease of a claimed task; the answer says whether it was stopped.")]
internal sealed record HeartbeatBody
{
    [Description("The lease token from the claim.")]
    public required string LeaseToken { get; init; }

    [Description("The lease's new length.")]
    public double? LeaseSeconds { get; init; }

    [Description("Wait up to this long, answering at once if the task is stopped.")]
    public double? WaitSeconds { get; init; }

    [Description("How far the task is: {\"percent\": 0-100, \"message\": \"...\"} or a bare percentage; shown on the task.")]
    public JsonElement? Progress { get; init; }
}

[Description("The task succeeded: its result, under its lease.")]
internal sealed record CompleteBody
{
    [Description("The lease token from the claim.")]
    public required string LeaseToken { get; init; }

    [Description("Any JSON value, kept as the task's result.")]
    public JsonElement? Result { get; init; }
}

[Description("The attempt failed: the error, under its lease; retried with backoff while attempts remain and retryable is true.")]
internal sealed record FailBody
{
    [Description("The lease token from the claim.")]
    public required string LeaseToken { get; init; }

    [Description("What went wrong, kept in the task's errors.")]
    public required string Error { get; init; }

    [Description("false fails the task at once (default true).")]
    public bool? Retryable { get; init; }
}

[Description("Many outcomes at once, each under its own lease, written in one durable commit.")]
internal sealed record ReportsBody
{
    [Description("1 to 1000 outcomes: a success has a result (or nothing), a failure an error.")]
    public required IReadOnlyList<ReportItemBody> Reports { get; init; }
}

[Description("One outcome in a report: a success (result) or a failure (error, retryable).")]
internal sealed record ReportItemBody
{
    [Description("The task's id.")]
    public required long Id { get; init; }

    [Description("The lease token from the claim.")]
    public required string LeaseToken { get; init; }

    [Description("A success: any JSON value, kept as the task's result.")]
    public JsonElement? Result { get; init; }

    [Description("A failure: what went wrong, kept in the task's errors.")]
    public string? Error { get; init; }

    [Description("A failure: false fails the task at once (default true).")]
    public bool? Retryable { get; init; }
}
