using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using TaskSystem.AspNetCore.Dashboard;

namespace TaskSystem.AspNetCore.Http;

/// <summary>
/// Queue controls: <c>GET {prefix}</c> lists the queues (counts, pause state, this node's settings);
/// <c>POST {prefix}/{name}/pause</c> and <c>/resume</c> pause and resume a queue on every node, durably. Every error is problem+json.
/// </summary>
internal static class QueuesApi
{
    public static RouteGroupBuilder Map(IEndpointRouteBuilder endpoints, string prefix, TaskSystemEndpointOptions options)
    {
        var queues = endpoints.MapGroup(prefix.TrimEnd('/')).AnswerHeadWhereGet();
        queues.AddEndpointFilter(TaskProblemFilter.InvokeAsync);
        EndpointAccess.Apply(queues, options, "TaskSystem queue API");
        if (endpoints.ServiceProvider.GetService<DashboardEventHub>() is { } dashboard)
        {
            // A pause or a resume shows on open dashboards at once.
            queues.AddEndpointFilter(async (context, next) =>
            {
                var result = await next(context);
                dashboard.PokeOverview();
                return result;
            });
        }

        queues.WithTags("Queues").ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        queues.MapGet("/", ListAsync).WithSummary("List the queues with their counts and pause state");
        queues.MapPost("/{name}/pause", (string name, TaskQueues control, CancellationToken cancellationToken) => SetAsync(name, paused: true, control, cancellationToken))
            .WithSummary("Pause a queue on every node").ProducesProblem(StatusCodes.Status400BadRequest);
        queues.MapPost("/{name}/resume", (string name, TaskQueues control, CancellationToken cancellationToken) => SetAsync(name, paused: false, control, cancellationToken))
            .WithSummary("Resume a queue on every node").ProducesProblem(StatusCodes.Status400BadRequest);
        return queues;
    }

    public static async Task<Ok<QueueListResponse>> ListAsync(TaskQueues control, IOptions<TaskSystemOptions> options, CancellationToken cancellationToken)
    {
        var queues = await control.ListAsync(cancellationToken);
        return TypedResults.Ok(new QueueListResponse(
            options.Value.NodeName,
            options.Value.Concurrency,
            [.. queues.Select(q => new QueueStateResponse(
                q.Name, q.Paused, q.PausedAt, q.Counts.Values.Sum(), TaskStates.All.ToDictionary(s => s.ToWire(), s => q.Counts.GetValueOrDefault(s)), q.Served, q.Concurrency))]));
    }

    public static async Task<Results<Ok<QueuePauseResponse>, ProblemHttpResult>> SetAsync(string name, bool paused, TaskQueues control, CancellationToken cancellationToken)
    {
        var changed = paused ? await control.PauseAsync(name, cancellationToken) : await control.ResumeAsync(name, cancellationToken);
        return TypedResults.Ok(new QueuePauseResponse(name, paused, changed));
    }
}

/// <summary>
/// <c>GET /queues</c>: every queue that has tasks or is paused; <c>node</c> and <c>concurrency</c> are the answering
/// node's, as are each queue's <c>served</c> and <c>concurrency</c> (its own limit there, or null).
/// </summary>
internal sealed record QueueListResponse(string Node, int Concurrency, IReadOnlyList<QueueStateResponse> Queues);

/// <summary>One queue: pause state (cluster-wide), tasks per state, and the answering node's settings for it.</summary>
internal sealed record QueueStateResponse(
    string Name, bool Paused, DateTimeOffset? PausedAt, long Total, IReadOnlyDictionary<string, long> Counts, bool Served, int? Concurrency);

/// <summary>The answer to a pause or a resume: the state now, and whether this request changed it.</summary>
internal sealed record QueuePauseResponse(string Name, bool Paused, bool Changed);
