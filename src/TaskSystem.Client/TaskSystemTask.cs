using System.Text.Json;
using System.Text.Json.Serialization;

namespace TaskSystem.Client;

/// <summary>A task as the server shows it (<c>GET /tasks/{id}</c>).</summary>
/// <param name="Id">Its id.</param>
/// <param name="Type">Its type: the handler that runs it.</param>
/// <param name="Queue">Its queue.</param>
/// <param name="Priority">Lower runs first.</param>
/// <param name="State"><c>awaiting</c> (a continuation waiting for its parents), <c>queued</c>, <c>scheduled</c>, <c>running</c>, <c>succeeded</c>, <c>failed</c> or <c>cancelled</c>.</param>
/// <param name="Payload">The handler's input.</param>
/// <param name="Attempt">The attempts started so far.</param>
/// <param name="MaxAttempts">The attempts it may have.</param>
/// <param name="TimeoutSeconds">How long an attempt may run.</param>
/// <param name="CreatedAt">When it was accepted.</param>
/// <param name="RunAt">When it may start.</param>
/// <param name="StartedAt">When its last attempt started.</param>
/// <param name="FinishedAt">When it finished.</param>
/// <param name="Result">What its handler returned.</param>
/// <param name="Error">Its last error.</param>
/// <param name="Errors">Every failed attempt.</param>
/// <param name="Node">The node (or external worker) that runs or ran it.</param>
/// <param name="StopRequested">Whether a stop was asked for while it ran.</param>
public sealed record TaskSystemTask(
    long Id,
    string Type,
    string Queue,
    int Priority,
    string State,
    JsonElement Payload,
    int Attempt,
    int MaxAttempts,
    double TimeoutSeconds,
    DateTimeOffset CreatedAt,
    DateTimeOffset RunAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    JsonElement? Result,
    string? Error,
    IReadOnlyList<TaskSystemTaskError> Errors,
    string? Node,
    bool StopRequested)
{
    /// <summary>True once it succeeded, failed or was cancelled: nothing more happens to it unless it is retried.</summary>
    [JsonIgnore]
    public bool IsFinished => State is "succeeded" or "failed" or "cancelled";

    /// <summary>How far it is, as its handler or worker last reported, or null before any report.</summary>
    public TaskSystemTaskProgress? Progress { get; init; }

    /// <summary>The idempotency key it was enqueued with (<see cref="TaskSystemEnqueueOptions.Key"/>), or null.</summary>
    public string? Key { get; init; }

    /// <summary>The recurring schedule whose tick made it, or null.</summary>
    public string? Schedule { get; init; }

    /// <summary>The tick of <see cref="Schedule"/> it was made for, or null.</summary>
    public DateTimeOffset? ScheduledFor { get; init; }

    /// <summary>
    /// Only from an enqueue: true when its key was held by this earlier task, so nothing was added (the server answered
    /// 200 rather than 201).
    /// </summary>
    public bool Existing { get; init; }
}

/// <summary>How far a task is, as its handler or worker last reported.</summary>
/// <param name="Percent">From 0 to 100.</param>
/// <param name="Message">What it said, or null.</param>
/// <param name="At">When it reported.</param>
/// <param name="Attempt">The attempt that reported it.</param>
public sealed record TaskSystemTaskProgress(double Percent, string? Message, DateTimeOffset At, int Attempt);

/// <summary>A page of tasks.</summary>
/// <param name="Tasks">The tasks, newest first.</param>
/// <param name="NextCursor">Where the next page starts, or null after the last.</param>
public sealed record TaskSystemTaskPage(IReadOnlyList<TaskSystemTask> Tasks, string? NextCursor);

/// <summary>One failed attempt.</summary>
/// <param name="Attempt">Which attempt.</param>
/// <param name="Error">Its message.</param>
/// <param name="At">When it failed.</param>
/// <param name="StackTrace">The exception as .NET prints it, or null.</param>
public sealed record TaskSystemTaskError(int Attempt, string Error, DateTimeOffset At, string? StackTrace);

/// <summary>How to run an enqueued task; every field left null takes the server's default.</summary>
public sealed record TaskSystemEnqueueOptions
{
    /// <summary>The queue.</summary>
    public string? Queue { get; init; }

    /// <summary>Lower runs first, -1000 to 1000.</summary>
    public int? Priority { get; init; }

    /// <summary>Attempts before the task fails.</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>How long an attempt may run.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Do not start before this instant.</summary>
    public DateTimeOffset? RunAt { get; init; }

    /// <summary>
    /// An idempotency key (at most 200 characters): while a task with this key is kept, enqueuing another with it adds
    /// nothing and answers that task.
    /// </summary>
    public string? Key { get; init; }
}

/// <summary>Which tasks <see cref="TaskSystemClient.ListAsync"/> lists; by default every task, newest first.</summary>
public sealed record TaskListFilter
{
    /// <summary>Only these states; null lists every state.</summary>
    public IReadOnlyList<string>? States { get; init; }

    /// <summary>Only this type.</summary>
    public string? Type { get; init; }

    /// <summary>Only this queue.</summary>
    public string? Queue { get; init; }

    /// <summary>Tasks fetched per request, 1 to 1000 (default 100).</summary>
    public int PageSize { get; init; } = 100;
}
