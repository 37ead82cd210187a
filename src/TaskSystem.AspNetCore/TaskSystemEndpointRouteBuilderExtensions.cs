using Microsoft.AspNetCore.Routing;
using TaskSystem.AspNetCore;
using TaskSystem.AspNetCore.Dashboard;
using TaskSystem.AspNetCore.Http;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps TaskSystem's HTTP API and dashboard into an ASP.NET Core app.</summary>
public static class TaskSystemEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the task API under <paramref name="prefix"/>: <c>POST</c> (enqueue), <c>GET</c> (list),
    /// <c>GET/DELETE {id}</c> (get, stop) and <c>POST {id}/retry</c>. Every error is an RFC 9457 problem.
    /// Outside Development it answers local requests only until <paramref name="configure"/> says who may call it.
    /// </summary>
    /// <returns>The endpoints' group, for more conventions (rate limits, CORS, more authorization).</returns>
    public static RouteGroupBuilder MapTaskSystemApi(
        this IEndpointRouteBuilder endpoints, string prefix = "/tasks", Action<TaskSystemApiOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        var options = new TaskSystemApiOptions();
        configure?.Invoke(options);
        return TasksApi.Map(endpoints, prefix, options);
    }

    /// <summary>
    /// Maps the protocol of external workers (docs/workers.md): <c>POST {prefix}/workers/claim</c> (a long poll) and
    /// <c>POST {prefix}/tasks/{id}/heartbeat</c>, <c>/complete</c>, <c>/fail</c> under a lease. Tasks of the types
    /// declared in <c>TaskSystem:ExternalTypes</c> are run this way. Outside Development it answers local requests
    /// only until <paramref name="configure"/> says who may call it.
    /// </summary>
    /// <returns>The endpoints' group, for more conventions.</returns>
    public static RouteGroupBuilder MapTaskSystemWorkers(
        this IEndpointRouteBuilder endpoints, string prefix = "", Action<TaskSystemEndpointOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(prefix);
        var options = new TaskSystemEndpointOptions();
        configure?.Invoke(options);
        return WorkersApi.Map(endpoints, prefix, options);
    }

    /// <summary>
    /// Maps the dashboard's page at <paramref name="prefix"/> (its files are inside this assembly) and its data
    /// beside it. It acts on tasks through the task API at <see cref="TaskSystemDashboardOptions.ApiPath"/>, so map
    /// that too. Outside Development it answers local requests only until <paramref name="configure"/> says who may
    /// use it.
    /// </summary>
    /// <returns>The endpoints' group, for more conventions.</returns>
    public static RouteGroupBuilder MapTaskSystemDashboard(
        this IEndpointRouteBuilder endpoints, string prefix = "/tasksystem", Action<TaskSystemDashboardOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(prefix);
        var options = new TaskSystemDashboardOptions();
        configure?.Invoke(options);
        return DashboardApi.Map(endpoints, prefix, options);
    }

    /// <summary>
    /// Maps the recurring schedules API under <paramref name="prefix"/>: <c>GET /</c>, <c>GET|PUT|DELETE /{name}</c>,
    /// <c>POST /{name}/pause|resume|trigger</c> (see docs/schedules.md). Requests from other machines are refused
    /// unless <see cref="TaskSystemEndpointOptions.AuthorizationPolicy"/> is set or <see cref="TaskSystemEndpointOptions.LocalRequestsOnly"/> is false.
    /// </summary>
    public static RouteGroupBuilder MapTaskSystemSchedules(
        this IEndpointRouteBuilder endpoints, string prefix = "/schedules", Action<TaskSystemEndpointOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        var options = new TaskSystemEndpointOptions();
        configure?.Invoke(options);
        return SchedulesApi.Map(endpoints, prefix, options);
    }

    /// <summary>
    /// Maps the queue controls under <paramref name="prefix"/>: <c>GET {prefix}</c> lists the queues with their counts,
    /// pause state and this node's settings; <c>POST {prefix}/{name}/pause</c> and <c>/resume</c> pause and resume a
    /// queue on every node, durably (running tasks finish; nothing new starts until it is resumed). Local requests
    /// only unless <see cref="TaskSystemEndpointOptions.LocalRequestsOnly"/> or an authorization policy says otherwise.
    /// </summary>
    public static RouteGroupBuilder MapTaskSystemQueues(
        this IEndpointRouteBuilder endpoints, string prefix = "/queues", Action<TaskSystemEndpointOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        var options = new TaskSystemEndpointOptions();
        configure?.Invoke(options);
        return QueuesApi.Map(endpoints, prefix, options);
    }
}
