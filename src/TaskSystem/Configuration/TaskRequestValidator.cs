using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TaskSystem.ExternalWorkers;
using TaskSystem.Handlers;
using TaskSystem.Storage;

namespace TaskSystem.Configuration;

/// <summary>
/// Turns a <see cref="TaskRequest"/> into the row to insert, or says which field is wrong: the one place where the
/// library API, the HTTP API and every later way in (batches, schedules) check a task before it is stored.
/// </summary>
internal sealed class TaskRequestValidator(
    HandlerRegistry handlers, ExternalTypes externalTypes, IServiceScopeFactory scopes, IOptions<TaskSystemOptions> options, PayloadJson json)
{
    private static readonly JsonElement EmptyObject = JsonLimits.Parse("{}");

    private readonly TaskSystemOptions _options = options.Value;

    /// <summary>The row for <paramref name="request"/>, with defaults applied, and its payload as given.</summary>
    /// <exception cref="TaskValidationException">A field is invalid; the exception names it.</exception>
    public (NewTask Task, JsonElement Payload) Prepare(TaskRequest request, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrEmpty(request.Type))
        {
            throw new TaskValidationException("type", "type is required: the name of a registered handler.");
        }

        if (!handlers.Accepts(request.Type) && !externalTypes.Accepts(request.Type))
        {
            var known = handlers.AcceptedTypes.Count == 0 ? "none" : string.Join(", ", handlers.AcceptedTypes);
            throw new TaskValidationException("type", $"unknown task type '{request.Type}'; registered types: {known}{externalTypes.DescribeFor(request.Type)}.");
        }

        var defaults = handlers.DefaultsOf(request.Type);

        var payload = request.Payload ?? EmptyObject;
        if (payload.ValueKind != JsonValueKind.Object)
        {
            throw new TaskValidationException("payload", $"payload must be a JSON object (got {Describe(payload.ValueKind)}).");
        }

        var payloadJson = payload.GetRawText();
        if (JsonLimits.Check(payloadJson, _options.MaxPayloadBytes, _options.MaxJsonDepth) is { } violation)
        {
            throw new TaskValidationException("payload", "payload refused: " + violation.Message) { IsTooLarge = violation.TooLarge };
        }

        var queue = request.Queue ?? defaults?.Queue ?? _options.DefaultQueue;
        if (TaskRules.CheckQueue(queue) is { } queueError)
        {
            throw new TaskValidationException("queue", queueError);
        }

        var priority = request.Priority ?? defaults?.Priority ?? 0;
        if (priority is < TaskRules.MinPriority or > TaskRules.MaxPriority)
        {
            throw new TaskValidationException("priority", $"priority must be between {TaskRules.MinPriority} and {TaskRules.MaxPriority} (got {priority}).");
        }

        var maxAttempts = request.MaxAttempts ?? defaults?.MaxAttempts ?? _options.DefaultMaxAttempts;
        if (maxAttempts is < 1 or > TaskRules.MaxAttempts)
        {
            throw new TaskValidationException("maxAttempts", $"maxAttempts must be between 1 and {TaskRules.MaxAttempts} (got {maxAttempts}).");
        }

        var timeout = request.Timeout ?? defaults?.Timeout ?? _options.DefaultTimeout;
        if (timeout < TimeSpan.FromMilliseconds(1) || timeout > TaskRules.MaxTimeout)
        {
            throw new TaskValidationException("timeoutSeconds", $"timeout must be between 0.001 and {TaskRules.MaxTimeout.TotalSeconds} seconds (got {timeout.TotalSeconds}).");
        }

        if (handlers.HasValidator(request.Type))
        {
            ValidatePayload(request.Type, payload);
        }

        if (handlers.PayloadTypeOf(request.Type) is { } payloadType)
        {
            CheckPayloadFits(payloadType, payload);
        }

        if (request.Key is { } key && (key.Length is 0 or > TaskRequest.MaxKeyLength || key.Any(char.IsControl)))
        {
            throw new TaskValidationException("key", $"key must be 1 to {TaskRequest.MaxKeyLength} characters with no control characters (got {key.Length}).");
        }

        var after = CheckAfter(request);
        var runAt = request.RunAt is { } at && at > now ? at : now;
        var traceParent = Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity ? activity.Id : null;
        return (new NewTask(request.Type, queue, priority, payloadJson, maxAttempts, timeout, now, runAt, traceParent)
        {
            Key = request.Key,
            After = after,
            AnyOutcome = request.AfterPolicy == AfterPolicy.AnyOutcome,
        }, payload);
    }

    /// <summary>
    /// The parents of a continuation, checked for their form: positive ids, no duplicates, at most
    /// <see cref="TaskSystemOptions.MaxParents"/>. That they exist is checked by the store, in the insert's transaction.
    /// </summary>
    private long[]? CheckAfter(TaskRequest request)
    {
        if (request.AfterPolicy is { } policy && !Enum.IsDefined(policy))
        {
            throw new TaskValidationException("afterPolicy", $"afterPolicy must be allSucceeded or anyOutcome (got {policy}).");
        }

        if (request.After is not { Count: > 0 } after)
        {
            return null;
        }

        if (after.Count > _options.MaxParents)
        {
            throw new TaskValidationException("after", $"after names {after.Count} parents; at most {_options.MaxParents} are allowed (TaskSystem:MaxParents).");
        }

        var seen = new HashSet<long>();
        foreach (var id in after)
        {
            if (id < 1)
            {
                throw new TaskValidationException("after", $"after must hold task ids, positive integers (got {id}).");
            }

            if (!seen.Add(id))
            {
                throw new TaskValidationException("after", $"after names task {id} twice.");
            }
        }

        return [.. after];
    }

    /// <summary>The store's query for a page of <paramref name="query"/>: one more row than the page, to know if another follows.</summary>
    /// <exception cref="TaskValidationException">The limit or cursor is invalid.</exception>
    public static TasksListParams ListParams(TaskListQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > TaskListQuery.MaxLimit)
        {
            throw new TaskValidationException("limit", $"limit must be between 1 and {TaskListQuery.MaxLimit} (got {query.Limit}).");
        }

        long? beforeId = null;
        if (query.Cursor is not null)
        {
            if (!long.TryParse(query.Cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var cursor) || cursor < 1)
            {
                throw new TaskValidationException("cursor", $"cursor must be a value returned as nextCursor (got '{query.Cursor}').");
            }

            beforeId = cursor;
        }

        return new TasksListParams(query.States, query.Type, query.Queue, beforeId, query.Limit + 1);
    }

    private void ValidatePayload(string type, JsonElement payload)
    {
        using var scope = scopes.CreateScope();
        if (HandlerRegistry.Resolve(scope.ServiceProvider, type) is ITaskPayloadValidator validator && validator.Validate(payload) is { } error)
        {
            throw new TaskValidationException("payload", error);
        }
    }

    /// <summary>A typed handler's payload must deserialize to its type: refused now rather than failed on every attempt.</summary>
    private void CheckPayloadFits(Type payloadType, JsonElement payload)
    {
        try
        {
            _ = JsonSerializer.Deserialize(payload, json.Options.GetTypeInfo(payloadType));
        }
        catch (JsonException exception)
        {
            throw new TaskValidationException("payload", $"payload does not fit the handler's {payloadType.Name}: {exception.Message}");
        }
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };
}
