using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace TaskSystem;

/// <summary>What to enqueue. Only <see cref="Type"/> is required; the rest take the configured defaults.</summary>
/// <param name="Type">The registered handler type that will run the task.</param>
public sealed record TaskRequest(string Type)
{
    /// <summary>The handler's input: a JSON object, or null for an empty object.</summary>
    public JsonElement? Payload { get; init; }

    /// <summary>The queue label (default <see cref="TaskSystemOptions.DefaultQueue"/>).</summary>
    public string? Queue { get; init; }

    /// <summary>Lower runs first (default 0, range -1000 to 1000).</summary>
    public int? Priority { get; init; }

    /// <summary>Attempts before the task fails (default <see cref="TaskSystemOptions.DefaultMaxAttempts"/>).</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>How long one attempt may run (default <see cref="TaskSystemOptions.DefaultTimeout"/>).</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Do not run before this time (default: now).</summary>
    public DateTimeOffset? RunAt { get; init; }

    /// <summary>
    /// An idempotency key (at most <see cref="MaxKeyLength"/> characters): while a task enqueued with this key is
    /// kept (until retention deletes it after it finished), enqueuing the key again adds nothing and returns that task,
    /// with <see cref="TaskInfo.Existing"/> set. Racing enqueues of one key make one task. Null for none.
    /// </summary>
    public string? Key { get; init; }

    /// <summary>
    /// The parents of a continuation: ids of tasks that already exist. The task waits in
    /// <see cref="TaskState.Awaiting"/> until they have finished as <see cref="AfterPolicy"/> asks, then is queued
    /// (or scheduled, if <see cref="RunAt"/> is still ahead); its handler reads their results with
    /// <see cref="TaskContext.ParentResultsAsync"/>. At most <see cref="TaskSystemOptions.MaxParents"/>, no duplicates.
    /// Null or empty for none.
    /// </summary>
    public IReadOnlyList<long>? After { get; init; }

    /// <summary>What the parents in <see cref="After"/> must end in (default <see cref="TaskSystem.AfterPolicy.AllSucceeded"/>).</summary>
    public AfterPolicy? AfterPolicy { get; init; }

    /// <summary>The longest <see cref="Key"/>: 200 characters.</summary>
    public const int MaxKeyLength = 200;

    /// <summary>
    /// A request whose payload is <paramref name="payload"/> serialized with <paramref name="typeInfo"/> (a
    /// source-generated context's: trimming and AOT safe); set the other fields with <c>with { Queue = ... }</c>.
    /// </summary>
    public static TaskRequest Create<TPayload>(string type, TPayload payload, JsonTypeInfo<TPayload> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return new TaskRequest(type) { Payload = JsonSerializer.SerializeToElement(payload, typeInfo) };
    }
}
