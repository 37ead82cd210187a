using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.DependencyInjection;
using TaskSystem.Handlers;

namespace TaskSystem.Testing;

/// <summary>
/// One attempt of a task, run inline by a test: no database, no engine, no host. The payload and the result go
/// through JSON as they would in the engine (web defaults, then <see cref="JsonTypeInfoResolver"/>, then reflection),
/// so a handler whose payload does not round-trip fails here too. Set the attempt number to test a handler's behaviour
/// on a retry or on its last attempt, and pass a token to test its cancellation.
/// </summary>
/// <example>
/// <code>
/// var result = await new TestAttempt { Attempt = 3, MaxAttempts = 3 }.RunAsync(new ResizeImageHandler(), new ResizeImage("a.png", 64));
/// </code>
/// </example>
public sealed class TestAttempt
{
    /// <summary>The task's id. Default 1.</summary>
    public long Id { get; init; } = 1;

    /// <summary>The task's type. Default <c>test</c>.</summary>
    public string Type { get; init; } = "test";

    /// <summary>The task's queue. Default <c>default</c>.</summary>
    public string Queue { get; init; } = "default";

    /// <summary>This attempt's number, from 1. Default 1.</summary>
    public int Attempt { get; init; } = 1;

    /// <summary>The attempts the task may have. Default 3.</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>The node's name. Default <c>test-node</c>.</summary>
    public string Node { get; init; } = "test-node";

    /// <summary>The attempt's services (<see cref="TaskContext.Services"/>). Default: an empty provider.</summary>
    public IServiceProvider? Services { get; init; }

    /// <summary>The app's source-generated JSON context, as given to <c>AddJsonTypeInfoResolver</c>. Default: none.</summary>
    public IJsonTypeInfoResolver? JsonTypeInfoResolver { get; init; }

    /// <summary>
    /// What <see cref="TaskContext.ParentResultsAsync"/> returns to the handler: the parents of a continuation as the
    /// test wants them (their state and result). Default: none.
    /// </summary>
    public IReadOnlyList<TaskParentResult> Parents { get; init; } = [];

    /// <summary>
    /// Every <see cref="TaskContext.ReportProgressAsync"/> call of the handlers run with this attempt (or given one of
    /// its contexts), in order, as the handler made them (message cut as the engine cuts it). The engine writes at most
    /// one per second of them, always the last; this keeps them all, so a test can assert the handler's calls.
    /// </summary>
    public IReadOnlyList<TestProgressReport> Progress
    {
        get
        {
            lock (_progress)
            {
                return [.. _progress];
            }
        }
    }

    private readonly List<TestProgressReport> _progress = [];

    /// <summary>The context a handler gets for a payload given as JSON text (a JSON object).</summary>
    public TaskContext Context(string payloadJson)
    {
        ArgumentException.ThrowIfNullOrEmpty(payloadJson);
        return Context(payloadJson, Json());
    }

    /// <summary>The context a handler gets for <paramref name="payload"/>, serialized as the engine's callers would.</summary>
    public TaskContext Context<TPayload>(TPayload payload)
    {
        var json = Json();
        return Context(JsonSerializer.Serialize(payload, json.TypeInfo<TPayload>()), json);
    }

    /// <summary>Runs <paramref name="handler"/> on a payload given as JSON text; returns its result as the engine would store it.</summary>
    public async Task<JsonElement?> RunJsonAsync(ITaskHandler handler, string payloadJson, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var result = await handler.HandleAsync(Context(payloadJson), cancellationToken).ConfigureAwait(false);
        return result is { ValueKind: not JsonValueKind.Undefined } element ? element.Clone() : null;
    }

    /// <summary>Runs a typed handler on <paramref name="payload"/>, through JSON as the engine would.</summary>
    public async Task RunAsync<TPayload>(ITaskHandler<TPayload> handler, TPayload payload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        await ((ITaskHandler)handler).HandleAsync(Context(payload), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs a typed handler on <paramref name="payload"/> and returns its result read back from JSON, as a client of the task would see it.</summary>
    public async Task<TResult?> RunAsync<TPayload, TResult>(ITaskHandler<TPayload, TResult> handler, TPayload payload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var json = Json();
        var result = await ((ITaskHandler)handler).HandleAsync(Context(payload), cancellationToken).ConfigureAwait(false);
        return result is { } element ? element.Deserialize(json.TypeInfo<TResult>()) : default;
    }

    private TaskContext Context(string payloadJson, PayloadJson json) =>
        new(Id, Type, Queue, Attempt, MaxAttempts, payloadJson, Node, Services ?? EmptyServices.Instance, json)
        {
            ProgressSink = new Recorder(this),
            ParentSource = _ => Task.FromResult(Parents),
        };

    /// <summary>Records the reports in <see cref="Progress"/>.</summary>
    private sealed class Recorder(TestAttempt attempt) : ITaskProgressSink
    {
        public ValueTask ReportAsync(double percent, string? message)
        {
            lock (attempt._progress)
            {
                attempt._progress.Add(new TestProgressReport(percent, message));
            }

            return ValueTask.CompletedTask;
        }
    }

    private PayloadJson Json() => JsonTypeInfoResolver is null ? PayloadJson.Default : new PayloadJson([new PayloadJsonResolver(JsonTypeInfoResolver)]);

    /// <summary>A provider with no services, for handlers that need none.</summary>
    private static class EmptyServices
    {
        public static readonly IServiceProvider Instance = new ServiceCollection().BuildServiceProvider();
    }
}
