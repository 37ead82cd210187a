using System.Text.Json.Serialization;

namespace TaskSystem;

/// <summary>
/// Where a task is in its life. See docs/lifecycle.md for the diagram. In JSON it is its wire name
/// (<see cref="TaskStates.ToWire"/>), as in the HTTP API, so an app that returns a <see cref="TaskInfo"/> from its own
/// endpoint says <c>"succeeded"</c>, not <c>3</c> (with reflection off too: the converter is not reflection-based).
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<TaskState>))]
public enum TaskState
{
    /// <summary>Waiting in the queue, ready to run.</summary>
    [JsonStringEnumMemberName("queued")]
    Queued,

    /// <summary>Waiting for a future time (a retry's backoff, or a delayed run).</summary>
    [JsonStringEnumMemberName("scheduled")]
    Scheduled,

    /// <summary>Claimed by a node and running in one of its workers.</summary>
    [JsonStringEnumMemberName("running")]
    Running,

    /// <summary>The handler returned; the result is kept.</summary>
    [JsonStringEnumMemberName("succeeded")]
    Succeeded,

    /// <summary>Every attempt failed; the last error is kept.</summary>
    [JsonStringEnumMemberName("failed")]
    Failed,

    /// <summary>Stopped by a manual action; never retried unless asked to.</summary>
    [JsonStringEnumMemberName("cancelled")]
    Cancelled,

    /// <summary>
    /// A continuation waiting for its parents (<see cref="TaskRequest.After"/>): queued when they have finished as its
    /// <see cref="TaskRequest.AfterPolicy"/> asks, cancelled when one of them failed or was cancelled instead.
    /// </summary>
    [JsonStringEnumMemberName("awaiting")]
    Awaiting,
}

/// <summary>The wire names of <see cref="TaskState"/>: lower case, as in the HTTP API and the database.</summary>
public static class TaskStates
{
    /// <summary>Every state, in lifecycle order.</summary>
    public static IReadOnlyList<TaskState> All { get; } =
        [TaskState.Awaiting, TaskState.Queued, TaskState.Scheduled, TaskState.Running, TaskState.Succeeded, TaskState.Failed, TaskState.Cancelled];

    /// <summary>The lower-case name used on the wire and in the database.</summary>
    public static string ToWire(this TaskState state) => state switch
    {
        TaskState.Awaiting => "awaiting",
        TaskState.Queued => "queued",
        TaskState.Scheduled => "scheduled",
        TaskState.Running => "running",
        TaskState.Succeeded => "succeeded",
        TaskState.Failed => "failed",
        TaskState.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Unknown task state."),
    };

    /// <summary>Parses a wire name; false for anything else (case-insensitive).</summary>
    public static bool TryParse(string? value, out TaskState state)
    {
        foreach (var candidate in All)
        {
            if (string.Equals(candidate.ToWire(), value, StringComparison.OrdinalIgnoreCase))
            {
                state = candidate;
                return true;
            }
        }

        state = default;
        return false;
    }

    /// <summary>True for the states a task never leaves by itself.</summary>
    public static bool IsFinal(this TaskState state) =>
        state is TaskState.Succeeded or TaskState.Failed or TaskState.Cancelled;
}
