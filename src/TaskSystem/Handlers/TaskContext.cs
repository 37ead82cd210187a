using System.Text.Json;

namespace TaskSystem;

/// <summary>What a handler knows about the attempt it runs.</summary>
public sealed class TaskContext
{
    private readonly string _payloadJson;
    private JsonElement? _payload;

    internal TaskContext(long id, string type, string queue, int attempt, int maxAttempts, string payloadJson, string node, IServiceProvider services)
    {
        Services = services;
        Id = id;
        Type = type;
        Queue = queue;
        Attempt = attempt;
        MaxAttempts = maxAttempts;
        _payloadJson = payloadJson;
        Node = node;
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

    /// <summary>The node running this attempt.</summary>
    public string Node { get; }

    /// <summary>The services of this attempt's own scope, for handlers written as functions.</summary>
    public IServiceProvider Services { get; }

    /// <summary>The payload as raw JSON text.</summary>
    public string PayloadJson => _payloadJson;

    /// <summary>The payload as a JSON object (parsed on first use, so handlers that ignore it pay nothing).</summary>
    public JsonElement Payload => _payload ??= JsonSerializer.Deserialize<JsonElement>(_payloadJson, JsonLimits.ReadBack);

    /// <summary>The payload deserialized to <typeparamref name="T"/> with web defaults (camelCase).</summary>
    public T? GetPayload<T>() => JsonSerializer.Deserialize<T>(_payloadJson, JsonSerializerOptions.Web);
}
