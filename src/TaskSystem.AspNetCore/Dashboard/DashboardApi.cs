using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TaskSystem.AspNetCore.Http;
using TaskSystem.Scheduling;

namespace TaskSystem.AspNetCore.Dashboard;

/// <summary>
/// The dashboard's own JSON: the overview, the enqueue form's choices, the schedules and their controls, and a
/// server-sent-events stream of changes.
/// Lists, details and actions go through <c>/tasks</c>, so the dashboard sees exactly what any client sees.
/// </summary>
internal static class DashboardApi
{
    private static readonly byte[] Ping = Encoding.UTF8.GetBytes(": ping\n\n");

    /// <summary>
    /// Maps the page at <c>{prefix}/</c>, its files under <c>{prefix}/dashboard/</c> and its data under
    /// <c>{prefix}/dashboard/api/</c>. The page finds the data by relative URLs and the task API by the URL it is given.
    /// </summary>
    public static RouteGroupBuilder Map(IEndpointRouteBuilder endpoints, string prefix, TaskSystemDashboardOptions options)
    {
        if (endpoints.ServiceProvider.GetService<DashboardEventHub>() is null)
        {
            throw new InvalidOperationException(
                "MapTaskSystemDashboard needs the dashboard's services: call services.AddTaskSystem(...).AddAspNetCore() first.");
        }

        var root = prefix.TrimEnd('/');
        var dashboard = endpoints.MapGroup(root);
        var assets = dashboard.MapGroup("");
        var tasksApi = options.ApiPath;
        assets.MapMethods("/", [HttpMethods.Get, HttpMethods.Head], (HttpRequest request) =>
            request.Path.Value?.EndsWith('/') == true
                ? DashboardAssets.Instance.Page(request.PathBase + tasksApi)
                : Results.Redirect(request.PathBase + request.Path + "/")); // the page's relative URLs need the slash
        foreach (var path in DashboardAssets.Instance.Paths)
        {
            // One route per file: any other path here is the app's (and its authorization's) to answer.
            assets.MapMethods("/dashboard/" + path, [HttpMethods.Get, HttpMethods.Head], () => DashboardAssets.Instance.File(path));
        }

        var api = dashboard.MapGroup("/dashboard/api").AnswerHeadWhereGet();
        api.AddEndpointFilter(TaskProblemFilter.InvokeAsync);
        api.WithTags("Dashboard").ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapGet("/overview", OverviewAsync).WithSummary("Tasks per state and queue, throughput, nodes");
        api.MapGet("/handlers", (DashboardQueries queries) => TypedResults.Ok(queries.ReadHandlers())).WithSummary("The task types and queues known here");
        api.MapGet("/events", StreamEventsAsync).WithSummary("Changes as server-sent events").Produces<string>(StatusCodes.Status200OK, "text/event-stream");

        // The page and its files are not API: they stay out of the OpenAPI document.
        assets.ExcludeFromDescription();

        // The queue table's buttons: the same controls as MapTaskSystemQueues, beside the page, under its access rules.
        api.MapPost("/queues/{name}/pause", async (string name, TaskQueues control, DashboardEventHub hub, CancellationToken cancellationToken) =>
        {
            var result = await QueuesApi.SetAsync(name, paused: true, control, cancellationToken);
            hub.PokeOverview();
            return result;
        })
            .WithSummary("Pause a queue (the queue table's button)").ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapPost("/queues/{name}/resume", async (string name, TaskQueues control, DashboardEventHub hub, CancellationToken cancellationToken) =>
        {
            var result = await QueuesApi.SetAsync(name, paused: false, control, cancellationToken);
            hub.PokeOverview();
            return result;
        })
            .WithSummary("Resume a queue (the queue table's button)").ProducesProblem(StatusCodes.Status400BadRequest);

        // The schedules page: the same list and controls as MapTaskSystemSchedules, beside the page, under its access rules.
        api.MapGet("/schedules", SchedulesApi.ListAsync).WithSummary("The recurring schedules (the schedules page)");
        api.MapGet("/schedules/{name}", SchedulesApi.GetAsync).WithSummary("One schedule (its page)").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/schedules/{name}/pause", (string name, Schedules schedules, TaskManager manager, CancellationToken cancellationToken) =>
            SchedulesApi.PauseAsync(name, paused: true, schedules, manager, cancellationToken))
            .WithSummary("Pause a schedule (the schedules page's button)").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/schedules/{name}/resume", (string name, Schedules schedules, TaskManager manager, CancellationToken cancellationToken) =>
            SchedulesApi.PauseAsync(name, paused: false, schedules, manager, cancellationToken))
            .WithSummary("Resume a schedule (the schedules page's button)").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/schedules/{name}/trigger", SchedulesApi.TriggerAsync)
            .WithSummary("Enqueue a schedule's task now (the schedules page's button)")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);

        if (options.AssetsAllowAnonymous)
        {
            // The files hold no data; the page asks for credentials when the data endpoints want them.
            assets.AllowAnonymous();
            EndpointAccess.Apply(api, options, "TaskSystem dashboard");
        }
        else
        {
            EndpointAccess.Apply(dashboard, options, "TaskSystem dashboard");
        }

        return dashboard;
    }

    private static async Task<Ok<OverviewResponse>> OverviewAsync(DashboardQueries queries, CancellationToken cancellationToken) =>
        TypedResults.Ok(await queries.ReadOverviewAsync(null, cancellationToken));

    /// <summary>
    /// <c>text/event-stream</c>: first <c>retry:</c>, then a <c>stats</c> and an <c>overview</c> event with the current
    /// state, then each change as it is seen, and a comment every <see cref="DashboardTimings.Heartbeat"/>. Ends when the
    /// client goes away or the server stops (clients reconnect).
    /// </summary>
    private static async Task StreamEventsAsync(
        HttpContext context, DashboardEventHub hub, DashboardTimings timings, IHostApplicationLifetime lifetime, TimeProvider time)
    {
        using var subscriber = hub.Subscribe();
        if (subscriber is null)
        {
            context.Response.Headers.RetryAfter = "10";
            await Problems.Create(
                StatusCodes.Status503ServiceUnavailable,
                $"{DashboardEventHub.MaxSubscribers} event streams are open, the most this server serves; try again shortly.").ExecuteAsync(context);
            return;
        }

        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        if (HttpMethods.IsHead(context.Request.Method))
        {
            // The headers say what a GET would stream; a HEAD has no body to wait for.
            return;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        var token = stop.Token;
        try
        {
            await response.Body.WriteAsync(Encoding.UTF8.GetBytes($"retry: {(long)timings.Reconnect.TotalMilliseconds}\n\n"), token);
            await response.Body.FlushAsync(token);
            while (!token.IsCancellationRequested)
            {
                if (await subscriber.WaitAsync(timings.Heartbeat, time, token))
                {
                    foreach (var item in subscriber.Take())
                    {
                        await response.Body.WriteAsync(item.Frame, token);
                    }
                }
                else
                {
                    await response.Body.WriteAsync(Ping, token);
                }

                await response.Body.FlushAsync(token);
            }
        }
        catch (OperationCanceledException)
        {
            // The client left, or the server is stopping: the stream just ends.
        }
        catch (IOException)
        {
            // The connection broke mid-write.
        }
    }
}
