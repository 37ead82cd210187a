using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using TaskSystem.Server.Http;

namespace TaskSystem.Server.Dashboard;

/// <summary>
/// The dashboard's own JSON: the overview, the enqueue form's choices, and a server-sent-events stream of changes.
/// Lists, details and actions go through <c>/tasks</c>, so the dashboard sees exactly what any client sees.
/// </summary>
internal static class DashboardApi
{
    private static readonly byte[] Ping = Encoding.UTF8.GetBytes(": ping\n\n");

    public static IEndpointRouteBuilder MapDashboardApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/dashboard/api").AnswerHeadWhereGet();
        api.MapGet("/overview", OverviewAsync);
        api.MapGet("/handlers", (DashboardQueries queries) => TypedResults.Ok(queries.ReadHandlers()));
        api.MapGet("/events", StreamEventsAsync);
        return endpoints;
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
