using System.Text.Json;
using TaskSystem.Storage;

namespace TaskSystem;

/// <summary>A task as the store holds it now.</summary>
/// <param name="Id">The task's id, unique and increasing.</param>
/// <param name="Type">Selects the handler that runs it.</param>
/// <param name="Queue">A label to group and filter tasks.</param>
/// <param name="Priority">Lower runs first; FIFO within a priority.</param>
/// <param name="Payload">The handler's input, a JSON object.</param>
/// <param name="State">Where the task is in its life.</param>
/// <param name="Attempt">How many attempts have started (0 before the first).</param>
/// <param name="MaxAttempts">How many attempts it may have before it fails.</param>
/// <param name="Timeout">How long one attempt may run before it is cancelled and counted as failed.</param>
/// <param name="CreatedAt">When it was accepted.</param>
/// <param name="RunAt">When it becomes (or became) ready to run.</param>
/// <param name="StartedAt">When its latest attempt started.</param>
/// <param name="FinishedAt">When it reached a final state.</param>
/// <param name="Result">What the handler returned, when it succeeded.</param>
/// <param name="Error">The latest error, when an attempt failed or it was stopped.</param>
/// <param name="Node">The node that runs it or ran it last.</param>
/// <param name="StopRequested">A stop was requested while it ran.</param>
/// <param name="Errors">Every failed attempt, oldest first.</param>
public sealed record TaskInfo(
    long Id,
    string Type,
    string Queue,
    int Priority,
    JsonElement Payload,
    TaskState State,
    int Attempt,
    int MaxAttempts,
    TimeSpan Timeout,
    DateTimeOffset CreatedAt,
    DateTimeOffset RunAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    JsonElement? Result,
    string? Error,
    string? Node,
    bool StopRequested,
    IReadOnlyList<TaskAttemptError> Errors)
{
    /// <summary>The idempotency key it was enqueued with, or null.</summary>
    public string? Key { get; init; }

    /// <summary>The recurring schedule whose tick made it, or null.</summary>
    public string? Schedule { get; init; }

    /// <summary>The tick of <see cref="Schedule"/> it was made for, or null.</summary>
    public DateTimeOffset? ScheduledFor { get; init; }

    /// <summary>
    /// Only on what an enqueue returns: true when the request's key was already held, so this is the earlier task,
    /// unchanged, and nothing was added.
    /// </summary>
    public bool Existing { get; init; }

    /// <summary>
    /// How far it is, as its handler last reported (<see cref="TaskContext.ReportProgressAsync"/>); null when no attempt
    /// reported any. Lists fill it for running tasks only.
    /// </summary>
    public TaskProgress? Progress { get; init; }

    /// <summary>
    /// A continuation's parents still kept (<see cref="TaskRequest.After"/>), lowest id first; null for a task without
    /// parents. Filled when one task is read (<see cref="TaskManager.GetAsync"/>), not in lists.
    /// </summary>
    public IReadOnlyList<long>? After { get; init; }

    /// <summary>The public view of a stored progress report.</summary>
    internal static TaskProgress ProgressOf(TaskProgressRecord record) => new(record.Percent, record.Message, record.At, record.Attempt);

    /// <summary>The public view of a stored row; <paramref name="payload"/> saves parsing the payload when the caller has it.</summary>
    internal static TaskInfo From(TaskRecord record, JsonElement? payload = null) => new(
        record.Id,
        record.Type,
        record.Queue,
        record.Priority,
        payload ?? JsonLimits.Parse(record.PayloadJson),
        record.State,
        record.Attempt,
        record.MaxAttempts,
        record.Timeout,
        record.CreatedAt,
        record.RunAt,
        record.StartedAt,
        record.FinishedAt,
        record.ResultJson is null ? null : JsonLimits.Parse(record.ResultJson),
        record.Error,
        record.Node,
        record.StopRequested,
        ErrorHistory.Parse(record.ErrorsJson))
    {
        Key = record.Key,
        Schedule = record.Schedule,
        ScheduledFor = record.ScheduledFor,
        Existing = record.Existing,
    };
}

/// <summary>One failed attempt.</summary>
/// <param name="Attempt">The attempt's number, from 1.</param>
/// <param name="Error">Why it failed: the exception's type and message, or a <see cref="TaskFailedException"/>'s message.</param>
/// <param name="At">When it failed.</param>
/// <param name="StackTrace">
/// The exception as .NET prints it (type, message, stack trace, inner exceptions), cut to
/// <see cref="MaxStackTraceBytes"/>; null when the attempt failed without one (a timeout, a lost node).
/// </param>
public sealed record TaskAttemptError(int Attempt, string Error, DateTimeOffset At, string? StackTrace = null)
{
    /// <summary>The most UTF-8 bytes of a stack trace kept per attempt: 8 KiB.</summary>
    public const int MaxStackTraceBytes = 8 * 1024;
}
