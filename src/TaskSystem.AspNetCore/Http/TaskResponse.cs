using System.Text.Json;
using System.Text.Json.Serialization;

namespace TaskSystem.AspNetCore.Http;

/// <summary>A task on the wire. Not the store's row: times are ISO 8601, the timeout is in seconds, the state is lower case.</summary>
internal sealed record TaskResponse(
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
    IReadOnlyList<TaskErrorResponse> Errors,
    string? Node,
    bool StopRequested,
    TaskProgressResponse? Progress)
{
    /// <summary>The idempotency key it was enqueued with, or null.</summary>
    public string? Key { get; init; }

    /// <summary>The recurring schedule whose tick made it, or null.</summary>
    public string? Schedule { get; init; }

    /// <summary>The tick of <see cref="Schedule"/> it was made for, or null.</summary>
    public DateTimeOffset? ScheduledFor { get; init; }

    /// <summary>A continuation's parents (ids), only when one task is read and it has some.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<long>? After { get; init; }

    /// <summary>Only in an enqueue's answer, only when true: the key was held, so this is the earlier task and nothing was added.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Existing { get; init; }

    public static TaskResponse From(TaskInfo task) => new(
        task.Id,
        task.Type,
        task.Queue,
        task.Priority,
        task.State.ToWire(),
        task.Payload,
        task.Attempt,
        task.MaxAttempts,
        task.Timeout.TotalSeconds,
        task.CreatedAt,
        task.RunAt,
        task.StartedAt,
        task.FinishedAt,
        task.Result,
        task.Error,
        [.. task.Errors.Select(e => new TaskErrorResponse(e.Attempt, e.Error, e.At, e.StackTrace))],
        task.Node,
        task.StopRequested,
        task.Progress is { } progress ? new TaskProgressResponse(progress.Percent, progress.Message, progress.At, progress.Attempt) : null)
    {
        Key = task.Key,
        Schedule = task.Schedule,
        ScheduledFor = task.ScheduledFor,
        Existing = task.Existing,
        After = task.After,
    };
}

/// <summary>How far a task is, as its handler or worker last reported: <c>percent</c> from 0 to 100, and the attempt that reported it.</summary>
internal sealed record TaskProgressResponse(double Percent, string? Message, DateTimeOffset At, int Attempt);

/// <summary>One failed attempt on the wire; <c>stackTrace</c> is the exception as .NET prints it (at most 8 KiB), or null.</summary>
internal sealed record TaskErrorResponse(int Attempt, string Error, DateTimeOffset At, string? StackTrace);

/// <summary>A page of tasks: pass <c>nextCursor</c> as <c>cursor</c> for the next one.</summary>
internal sealed record TaskListResponse(IReadOnlyList<TaskResponse> Tasks, string? NextCursor);
