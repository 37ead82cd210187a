using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace TaskSystem.AspNetCore.Http;

/// <summary>Applies <see cref="TaskSystemEndpointOptions"/> to a group of endpoints.</summary>
internal static class EndpointAccess
{
    public static void Apply(RouteGroupBuilder group, TaskSystemEndpointOptions options, string what)
    {
        if (options.AuthorizationPolicy is { } policy)
        {
            group.RequireAuthorization(policy);
        }

        if (IsLocalOnly(group, options))
        {
            group.AddEndpointFilter(async (context, next) => IsLocal(context.HttpContext.Connection)
                ? await next(context)
                : Problems.Create(
                    StatusCodes.Status403Forbidden,
                    $"The {what} answers local requests only: the app has not said who may use it outside Development " +
                    "(set AuthorizationPolicy, or LocalRequestsOnly = false to leave it to the app's own rules)."));
        }
    }

    public static bool IsLocalOnly(IEndpointRouteBuilder endpoints, TaskSystemEndpointOptions options) =>
        options.LocalRequestsOnly
        ?? (options.AuthorizationPolicy is null && !endpoints.ServiceProvider.GetRequiredService<IHostEnvironment>().IsDevelopment());

    private static bool IsLocal(ConnectionInfo connection) =>
        connection.RemoteIpAddress is null // in-memory hosts (tests) have no network peer
        || IPAddress.IsLoopback(connection.RemoteIpAddress)
        || connection.RemoteIpAddress.Equals(connection.LocalIpAddress);
}
