namespace TaskSystem.Storage;

/// <summary>A task's row, as stored. JSON columns stay raw text; the engine parses them only when needed.</summary>
internal sealed record TaskRecord
{
    /// <summary>The id.</summary>
    public required long Id { get; init; }

    /// <summary>The handler type.</summary>
    public required string Type { get; init; }

    /// <summary>The queue label.</summary>
    public required string Queue { get; init; }

    /// <summary>Lower runs first.</summary>
    public required int Priority { get; init; }

    /// <summary>The payload, a JSON object as text.</summary>
    public required string PayloadJson { get; init; }

    /// <summary>The state.</summary>
    public required TaskState State { get; init; }

    /// <summary>Attempts started.</summary>
    public required int Attempt { get; init; }

    /// <summary>Attempts allowed.</summary>
    public required int MaxAttempts { get; init; }

    /// <summary>Time allowed per attempt.</summary>
    public required TimeSpan Timeout { get; init; }

    /// <summary>When accepted.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When ready to run.</summary>
    public required DateTimeOffset RunAt { get; init; }

    /// <summary>When the latest attempt started.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When it reached a final state.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>The handler's result as JSON text.</summary>
    public string? ResultJson { get; init; }

    /// <summary>The latest error.</summary>
    public string? Error { get; init; }

    /// <summary>Every failed attempt as a JSON array of {attempt, error, at}.</summary>
    public string? ErrorsJson { get; init; }

    /// <summary>The node that runs or ran it.</summary>
    public string? Node { get; init; }

    /// <summary>The claim that owns it while running: a fencing token for completions.</summary>
    public long? ClaimId { get; init; }

    /// <summary>When the owner's lease runs out unless renewed.</summary>
    public DateTimeOffset? LeaseExpiresAt { get; init; }

    /// <summary>A stop was requested while it ran.</summary>
    public bool StopRequested { get; init; }

    /// <summary>The W3C trace context of the request that enqueued it, to link its execution.</summary>
    public string? TraceParent { get; init; }

    /// <summary>The idempotency key it was enqueued with: no other kept task has it.</summary>
    public string? Key { get; init; }

    /// <summary>The schedule whose tick made it.</summary>
    public string? Schedule { get; init; }

    /// <summary>The tick of <see cref="Schedule"/> it is for.</summary>
    public DateTimeOffset? ScheduledFor { get; init; }

    /// <summary>
    /// Not a column: set on what an insert returns when the task's key (or schedule tick) was already held, so this is
    /// the earlier task, unchanged, and nothing was added.
    /// </summary>
    public bool Existing { get; init; }
}

/// <summary>A node's latest heartbeat.</summary>
/// <param name="Name">The node's name.</param>
/// <param name="StartedAt">When it started.</param>
/// <param name="HeartbeatAt">Its latest heartbeat.</param>
/// <param name="Concurrency">Its worker count.</param>
/// <param name="Busy">Workers busy at the heartbeat.</param>
internal sealed record NodeRecord(string Name, DateTimeOffset StartedAt, DateTimeOffset HeartbeatAt, int Concurrency, int Busy);
