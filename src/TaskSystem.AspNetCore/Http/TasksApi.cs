using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using TaskSystem.AspNetCore.Dashboard;

namespace TaskSystem.AspNetCore.Http;

/// <summary>The seed's API, done properly: add, list, get, stop and retry tasks. Every error is problem+json.</summary>
internal static class TasksApi
{
    /// <summary>Room for the envelope's own fields around a payload of the largest size.</summary>
    private const int EnvelopeAllowance = 64 * 1024;

    /// <summary>The largest request body the API reads: the largest payload plus room for the envelope.</summary>
    public static long MaxBodyBytes(TaskSystemOptions options) => (long)options.MaxPayloadBytes + EnvelopeAllowance;

    public static RouteGroupBuilder Map(IEndpointRouteBuilder endpoints, string prefix, TaskSystemApiOptions options)
    {
        var maxBody = MaxBodyBytes(endpoints.ServiceProvider.GetRequiredService<IOptions<TaskSystemOptions>>().Value);
        var tasks = endpoints.MapGroup(prefix).AnswerHeadWhereGet();
        tasks.AddEndpointFilter(TaskProblemFilter.InvokeAsync);
        EndpointAccess.Apply(tasks, options, "TaskSystem API");
        if (endpoints.ServiceProvider.GetService<DashboardEventHub>() is { } dashboard)
        {
            // A write through this API wakes the dashboard's watcher, so open dashboards see it within milliseconds.
            tasks.AddEndpointFilter(async (context, next) =>
            {
                var result = await next(context);
                if (!HttpMethods.IsGet(context.HttpContext.Request.Method))
                {
                    dashboard.Poke();
                }

                return result;
            });
        }
        tasks.WithTags("Tasks").ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        tasks.MapPost("/", (HttpRequest request, TaskManager manager, IOptions<TaskSystemOptions> settings, CancellationToken cancellationToken) =>
                EnqueueAsync(request, manager, settings.Value, options.DefaultType, cancellationToken))
            .WithMetadata(new RequestSizeLimit(maxBody))
            .WithSummary("Enqueue a task").Accepts<TaskEnvelopeBody>(ApiDescriptions.JsonOrAny[0], ApiDescriptions.JsonOrAny[1..])
            .WithMetadata(new RequestBodyExample("""{"type": "demo", "payload": {"durationMs": 10}, "priority": 0, "maxAttempts": 3}"""))
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        tasks.MapGet("/", ListAsync).WithSummary("List tasks, newest first, a page at a time").ProducesProblem(StatusCodes.Status400BadRequest);
        tasks.MapGet("/{id}", GetAsync).WithSummary("Get a task").ProducesProblem(StatusCodes.Status404NotFound);
        tasks.MapDelete("/{id}", StopAsync).WithSummary("Stop a task")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        tasks.MapPost("/{id}/retry", RetryAsync).WithSummary("Retry a failed or cancelled task")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        tasks.MapPost("/batch", (HttpRequest request, TaskManager manager, IOptions<TaskSystemOptions> settings, CancellationToken cancellationToken) =>
                TaskBatchApi.EnqueueAsync(request, manager, settings.Value, options.DefaultType, cancellationToken))
            .WithMetadata(new RequestSizeLimit(TaskBatchApi.MaxBodyBytes(endpoints.ServiceProvider.GetRequiredService<IOptions<TaskSystemOptions>>().Value)))
            .WithSummary("Enqueue many tasks in one commit, all or none")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        tasks.MapPost("/bulk", TasksBulkApi.BulkAsync).WithSummary("Stop, retry or delete many tasks").ProducesProblem(StatusCodes.Status400BadRequest);
        return tasks;
    }

    /// <summary>The header that carries a task's idempotency key (the envelope's <c>key</c> field does the same).</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>Set to <c>true</c> on a 200 that returns the task an earlier enqueue with the same key made.</summary>
    public const string ExistingHeader = "TaskSystem-Existing";

    private static async Task<Results<Created<TaskResponse>, Ok<TaskResponse>, ProblemHttpResult>> EnqueueAsync(
        HttpRequest request, TaskManager manager, TaskSystemOptions options, string? defaultType, CancellationToken cancellationToken)
    {
        // One level of envelope around the payload; the payload's own depth is checked exactly by the task manager.
        // The answer shows the payload as parsed, so the document lives until the response is written.
        var body = await JsonRequestBody.ReadAsync(request, MaxBodyBytes(options), options.MaxJsonDepth, envelopeLevels: 1, cancellationToken);
        request.HttpContext.Response.RegisterForDispose(body);
        var (taskRequest, problem) = body.Problem is null ? TaskEnvelope.Parse(body.Root, defaultType) : (null, body.Problem);
        if (taskRequest is null)
        {
            return Problems.Create(problem!.Status, problem.Detail, problem.Field);
        }

        if (request.Headers.TryGetValue(IdempotencyKeyHeader, out var keys))
        {
            if (keys.Count != 1 || string.IsNullOrEmpty(keys[0]))
            {
                return Problems.Create(StatusCodes.Status400BadRequest, $"{IdempotencyKeyHeader} must be given once, not empty.", "key");
            }

            if (taskRequest.Key is { } bodyKey && !string.Equals(bodyKey, keys[0], StringComparison.Ordinal))
            {
                return Problems.Create(
                    StatusCodes.Status400BadRequest, $"The {IdempotencyKeyHeader} header and the envelope's key differ ('{keys[0]}' and '{bodyKey}'): send one.", "key");
            }

            taskRequest = taskRequest with { Key = keys[0] };
        }

        var task = await manager.EnqueueAsync(taskRequest, cancellationToken);
        if (task.Existing)
        {
            request.HttpContext.Response.Headers[ExistingHeader] = "true";
            return TypedResults.Ok(TaskResponse.From(task));
        }

        return TypedResults.Created(TaskUrl(request, task.Id), TaskResponse.From(task));
    }

    private static async Task<Results<Ok<TaskListResponse>, ProblemHttpResult>> ListAsync(
        HttpRequest request, TaskManager manager, CancellationToken cancellationToken)
    {
        var query = request.Query;
        var states = ParseStates(query["state"]);
        if (states.Error is not null)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, states.Error, "state");
        }

        var limit = TaskListQuery.DefaultLimit;
        if (query.TryGetValue("limit", out var limitText)
            && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > TaskListQuery.MaxLimit))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, $"limit must be an integer between 1 and {TaskListQuery.MaxLimit} (got '{limitText}').", "limit");
        }

        var page = await manager.ListAsync(
            new TaskListQuery(states.States, NonEmpty(query["type"]), NonEmpty(query["queue"]), limit, NonEmpty(query["cursor"])),
            cancellationToken);
        return TypedResults.Ok(new TaskListResponse([.. page.Tasks.Select(TaskResponse.From)], page.NextCursor));
    }

    private static async Task<Results<Ok<TaskResponse>, ProblemHttpResult>> GetAsync(string id, TaskManager manager, CancellationToken cancellationToken)
    {
        var task = TryParseId(id, out var taskId) ? await manager.GetAsync(taskId, cancellationToken) : null;
        return task is null ? Problems.TaskNotFound(id) : TypedResults.Ok(TaskResponse.From(task));
    }

    private static async Task<Results<NoContent, Accepted<TaskResponse>, ProblemHttpResult>> StopAsync(
        string id, HttpRequest request, TaskManager manager, CancellationToken cancellationToken)
    {
        if (!TryParseId(id, out var taskId))
        {
            return Problems.TaskNotFound(id);
        }

        var result = await manager.StopAsync(taskId, cancellationToken);
        return result.Outcome switch
        {
            StopOutcome.Cancelled or StopOutcome.AlreadyCancelled => TypedResults.NoContent(),
            StopOutcome.Pending => TypedResults.Accepted(request.PathBase + request.Path, TaskResponse.From(result.Task!)),
            StopOutcome.AlreadyFinished => Problems.Create(
                StatusCodes.Status409Conflict, $"Task {taskId} has already {result.Task!.State.ToWire()}; a finished task cannot be stopped."),
            _ => Problems.TaskNotFound(id),
        };
    }

    private static async Task<Results<Ok<TaskResponse>, ProblemHttpResult>> RetryAsync(string id, TaskManager manager, CancellationToken cancellationToken)
    {
        if (!TryParseId(id, out var taskId))
        {
            return Problems.TaskNotFound(id);
        }

        var result = await manager.RetryAsync(taskId, cancellationToken);
        return result.Outcome switch
        {
            RetryOutcome.Queued => TypedResults.Ok(TaskResponse.From(result.Task!)),
            RetryOutcome.NotRetryable => Problems.Create(
                StatusCodes.Status409Conflict, $"Task {taskId} is {result.Task!.State.ToWire()}; only failed or cancelled tasks can be retried."),
            RetryOutcome.PreviousAttemptRunning => Problems.Create(
                StatusCodes.Status409Conflict, $"Task {taskId}'s previous handler ignored its stop and still runs; retry it once that handler returns."),
            _ => Problems.TaskNotFound(id),
        };
    }

    /// <summary>Where a new task is, from the URL it was posted to (the app's path base and the API's prefix included).</summary>
    private static string TaskUrl(HttpRequest request, long id) =>
        $"{request.PathBase}{request.Path.Value?.TrimEnd('/')}/{id.ToString(CultureInfo.InvariantCulture)}";

    private static bool TryParseId(string id, out long taskId) =>
        long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out taskId) && taskId > 0;

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>No filter lists the running tasks, as the seed does; <c>all</c> lists every state.</summary>
    private static (IReadOnlyCollection<TaskState>? States, string? Error) ParseStates(Microsoft.Extensions.Primitives.StringValues values)
    {
        var names = values.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (names.Count == 0)
        {
            return ([TaskState.Running], null);
        }

        if (names.Any(n => string.Equals(n, "all", StringComparison.OrdinalIgnoreCase)))
        {
            return (null, null);
        }

        var states = new HashSet<TaskState>();
        foreach (var name in names)
        {
            if (!TaskStates.TryParse(name, out var state))
            {
                return (null, $"Unknown state '{name}'. Use a comma-separated list of {string.Join(", ", TaskStates.All.Select(s => s.ToWire()))}, or all.");
            }

            states.Add(state);
        }

        return (states, null);
    }
}
