using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using TaskSystem.Handlers;

namespace TaskSystem;

/// <summary>
/// What a handler knows about the attempt it runs. The engine makes one per attempt; tests make one with
/// <c>TaskSystem.Testing</c>'s <c>TestTaskContext</c>.
/// </summary>
public sealed class TaskContext
{
    private readonly string _payloadJson;
    private readonly PayloadJson _json;
    private JsonElement? _payload;

    internal TaskContext(long id, string type, string queue, int attempt, int maxAttempts, string payloadJson, string node, IServiceProvider services, PayloadJson json)
    {
        Services = services;
        Id = id;
        Type = type;
        Queue = queue;
        Attempt = attempt;
        MaxAttempts = maxAttempts;
        _payloadJson = payloadJson;
        Node = node;
        _json = json;
    }

    /// <summary>The task's id.</summary>
    public long Id { get; }

    /// <summary>The task's type.</summary>
    public string Type { get; }

    /// <summary>The task's queue.</summary>
    public string Queue { get; }

    /// <summary>This attempt's number, from 1.</summary>
    public int Attempt { get; }

    /// <summary>The attempts the task may have.</summary>
    public int MaxAttempts { get; }

    /// <summary>True when this is the task's last attempt: if it fails, the task fails.</summary>
    public bool IsLastAttempt => Attempt >= MaxAttempts;

    /// <summary>The node running this attempt.</summary>
    public string Node { get; }

    /// <summary>The services of this attempt's own scope, for handlers written as functions.</summary>
    public IServiceProvider Services { get; }

    /// <summary>The payload as raw JSON text.</summary>
    public string PayloadJson => _payloadJson;

    /// <summary>The payload as a JSON object (parsed on first use, so handlers that ignore it pay nothing).</summary>
    public JsonElement Payload => _payload ??= JsonLimits.Parse(_payloadJson);

    /// <summary>
    /// The payload deserialized to <typeparamref name="T"/> with web defaults (camelCase), through the app's
    /// source-generated contexts (<see cref="TaskSystemBuilder.AddJsonTypeInfoResolver"/>) and, unless the app disabled
    /// it, reflection.
    /// </summary>
    /// <exception cref="JsonException">The payload does not fit <typeparamref name="T"/>.</exception>
    public T? GetPayload<T>() => JsonSerializer.Deserialize(_payloadJson, _json.TypeInfo<T>());

    /// <summary>The payload deserialized with <paramref name="typeInfo"/> (source-generated: trimming and AOT safe).</summary>
    /// <exception cref="JsonException">The payload does not fit <typeparamref name="T"/>.</exception>
    public T? GetPayload<T>(JsonTypeInfo<T> typeInfo) => JsonSerializer.Deserialize(_payloadJson, typeInfo);

    /// <summary>The JSON settings of this app's payloads and results, for a typed handler's own (de)serialization.</summary>
    internal PayloadJson Json => _json;

    /// <summary>Where progress reports go: the engine's coalescing writer; none in a test's context.</summary>
    internal ITaskProgressSink? ProgressSink { get; init; }

    /// <summary>
    /// Reports how far the attempt is, shown by <c>GET /tasks/{id}</c> and the dashboard while the task runs. Call it as
    /// often as is convenient: reports are coalesced into at most one store write per task per second, and the last one
    /// is always written (at the latest when the handler returns). A report never fails the task: a write the store
    /// refuses is logged and the next one tries again. The returned task completes at once, or when the write it
    /// started does.
    /// </summary>
    /// <param name="percent">How far, from 0 to 100.</param>
    /// <param name="message">What it is doing, or null; cut to <see cref="TaskProgress.MaxMessageLength"/> characters.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="percent"/> is not a number from 0 to 100.</exception>
    public ValueTask ReportProgressAsync(double percent, string? message = null)
    {
        if (!(percent >= 0 && percent <= 100))
        {
            throw new ArgumentOutOfRangeException(nameof(percent), percent, "Progress is a percentage from 0 to 100.");
        }

        return ProgressSink?.ReportAsync(percent, Cut(message)) ?? ValueTask.CompletedTask;
    }

    /// <summary>Reads the parents' outcomes of a continuation: the engine's store read; a test's own list.</summary>
    internal Func<CancellationToken, Task<IReadOnlyList<TaskParentResult>>>? ParentSource { get; init; }

    /// <summary>
    /// The parents of this task (<see cref="TaskRequest.After"/>), lowest id first, with their state and result, read
    /// from the store when called (each call reads again). When the continuation runs, every parent has succeeded, or,
    /// with <see cref="AfterPolicy.AnyOutcome"/>, finished. Empty for a task without parents; a parent deleted by
    /// retention since is left out.
    /// </summary>
    public Task<IReadOnlyList<TaskParentResult>> ParentResultsAsync(CancellationToken cancellationToken = default) =>
        ParentSource?.Invoke(cancellationToken) ?? Task.FromResult<IReadOnlyList<TaskParentResult>>([]);

    /// <summary>A message cut to the longest kept, never between the two halves of a surrogate pair.</summary>
    internal static string? Cut(string? message)
    {
        if (message is not { Length: > TaskProgress.MaxMessageLength })
        {
            return message;
        }

        var length = char.IsHighSurrogate(message[TaskProgress.MaxMessageLength - 1]) ? TaskProgress.MaxMessageLength - 1 : TaskProgress.MaxMessageLength;
        return message[..length];
    }
}
