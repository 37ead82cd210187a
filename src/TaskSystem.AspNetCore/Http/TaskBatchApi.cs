using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace TaskSystem.AspNetCore.Http;

/// <summary>
/// <c>POST /tasks/batch</c>: <c>{"tasks": [envelope, ...]}</c>, up to <see cref="TaskSystemOptions.MaxBatchSize"/>,
/// stored in one durable commit, all or none. A bad item is a 400 whose field names its place (<c>tasks[3].type</c>).
/// </summary>
internal static class TaskBatchApi
{
    /// <summary>Room per item for its envelope and a small payload, on top of one payload of the largest size.</summary>
    private const int ItemAllowance = 1024;

    /// <summary>
    /// The largest batch body: one payload of the largest size, plus room for every item's envelope and a small
    /// payload. A batch of large payloads is better sent as several requests.
    /// </summary>
    public static long MaxBodyBytes(TaskSystemOptions options) => TasksApi.MaxBodyBytes(options) + ((long)options.MaxBatchSize * ItemAllowance);

    public static async Task<Results<Created<TaskBatchResponse>, Ok<TaskBatchResponse>, ProblemHttpResult>> EnqueueAsync(
        HttpRequest request, TaskManager manager, TaskSystemOptions options, string? defaultType, CancellationToken cancellationToken)
    {
        if (request.Headers.ContainsKey(TasksApi.IdempotencyKeyHeader))
        {
            return Problems.Create(
                StatusCodes.Status400BadRequest, $"{TasksApi.IdempotencyKeyHeader} names one task: in a batch, give each envelope its own 'key'.", "key");
        }

        // Three levels around a payload: the body, its tasks array, the envelope.
        var body = await JsonRequestBody.ReadAsync(request, MaxBodyBytes(options), options.MaxJsonDepth, envelopeLevels: 3, cancellationToken);
        request.HttpContext.Response.RegisterForDispose(body);
        if (body.Problem is { } bodyProblem)
        {
            return Problems.Create(bodyProblem.Status, bodyProblem.Detail, bodyProblem.Field);
        }

        var (requests, problem) = Parse(body.Root, options.MaxBatchSize, defaultType);
        if (requests is null)
        {
            return Problems.Create(problem!.Status, problem.Detail, problem.Field);
        }

        IReadOnlyList<TaskInfo> tasks;
        try
        {
            tasks = await manager.EnqueueManyAsync(requests, cancellationToken);
        }
        catch (TaskValidationException invalid) when (invalid.Index is { } index)
        {
            var field = invalid.Field is null ? $"tasks[{index}]" : $"tasks[{index}].{invalid.Field}";
            return Problems.Create(
                invalid.IsTooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest, $"{field}: {invalid.Message}", field);
        }

        var response = new TaskBatchResponse([.. tasks.Select(TaskResponse.From)]);
        return tasks.All(t => t.Existing) ? TypedResults.Ok(response) : TypedResults.Created((string?)null, response);
    }

    /// <summary>The requests <paramref name="root"/> holds, in order, or the first thing wrong with it.</summary>
    internal static (IReadOnlyList<TaskRequest>? Requests, RequestProblem? Problem) Parse(JsonElement root, int maxBatchSize, string? defaultType)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return Invalid("The request body must be a JSON object: {\"tasks\": [{\"type\": \"...\"}, ...]}.");
        }

        JsonElement? items = null;
        foreach (var property in root.EnumerateObject())
        {
            if (property.Name != "tasks")
            {
                return Invalid($"Unknown field '{property.Name}' in a batch: the body holds only 'tasks', an array of task envelopes.", property.Name);
            }

            items = property.Value;
        }

        if (items is not { ValueKind: JsonValueKind.Array } array)
        {
            return Invalid("tasks is required: an array of task envelopes, for example {\"tasks\": [{\"type\": \"demo\"}]}.", "tasks");
        }

        var count = array.GetArrayLength();
        if (count < 1 || count > maxBatchSize)
        {
            return Invalid($"tasks must hold 1 to {maxBatchSize} envelopes (TaskSystem:MaxBatchSize); got {count}.", "tasks");
        }

        var requests = new TaskRequest[count];
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            var (request, problem) = TaskEnvelope.Parse(item, defaultType);
            if (request is null)
            {
                var field = problem!.Field is null ? $"tasks[{index}]" : $"tasks[{index}].{problem.Field}";
                return (null, problem with { Detail = $"{field}: {problem.Detail}", Field = field });
            }

            requests[index++] = request;
        }

        return (requests, null);
    }

    private static (IReadOnlyList<TaskRequest>? Requests, RequestProblem? Problem) Invalid(string detail, string? field = null) =>
        (null, RequestProblem.Invalid(detail, field));
}

/// <summary>The tasks of a batch, in the order they were sent.</summary>
internal sealed record TaskBatchResponse(IReadOnlyList<TaskResponse> Tasks);
