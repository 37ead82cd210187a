namespace TaskSystem.Client;

/// <summary>One task of <see cref="TaskSystemClient.EnqueueBatchAsync"/>.</summary>
/// <param name="Type">Its type: the handler that runs it.</param>
/// <param name="Payload">Its input, serialized as JSON with web defaults (camelCase); null sends none.</param>
/// <param name="Options">How to run it; null takes the server's defaults.</param>
public sealed record TaskSystemBatchItem(string Type, object? Payload = null, TaskSystemEnqueueOptions? Options = null);

/// <summary>What a bulk action does to each task it selects.</summary>
public enum TaskSystemBulkAction
{
    /// <summary>Stop the task: a queued or scheduled one is cancelled at once, a running one is asked to stop; finished ones are left.</summary>
    Stop,

    /// <summary>Put a failed or cancelled task back in the queue with a fresh set of attempts; others are left.</summary>
    Retry,

    /// <summary>Remove a finished task (succeeded, failed, cancelled); others are left.</summary>
    Delete,
}

/// <summary>Which tasks a bulk action selects; every field left null selects all.</summary>
public sealed record TaskSystemBulkFilter
{
    /// <summary>Only these states.</summary>
    public IReadOnlyList<string>? States { get; init; }

    /// <summary>Only this queue.</summary>
    public string? Queue { get; init; }

    /// <summary>Only this type.</summary>
    public string? Type { get; init; }

    /// <summary>Only tasks created before this instant.</summary>
    public DateTimeOffset? CreatedBefore { get; init; }
}

/// <summary>What a bulk action did.</summary>
/// <param name="Action"><c>stop</c>, <c>retry</c> or <c>delete</c>.</param>
/// <param name="Matched">The tasks selected.</param>
/// <param name="Affected">The tasks it changed (a stop skips finished tasks, a retry skips tasks that are not failed or cancelled).</param>
public sealed record TaskSystemBulkResult(string Action, long Matched, long Affected);
