using Microsoft.AspNetCore.RateLimiting;
using TaskSystem.AspNetCore.Http;

namespace TaskSystem.Server.Health;

/// <summary>
/// Liveness (the process answers) and readiness (the store answers and the workers run), open without credentials
/// and never rate limited: probes must not depend on a secret or on other clients' traffic.
/// </summary>
internal static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/health/live", new() { Predicate = _ => false }).OnlyGetAndHead().AllowAnonymous().DisableRateLimiting();
        endpoints.MapHealthChecks("/health/ready", new() { Predicate = check => check.Tags.Contains("ready") }).OnlyGetAndHead().AllowAnonymous().DisableRateLimiting();

        // The same two under the paths .NET Aspire's service defaults probe (/alive, /health), so an AppHost's
        // WithHttpHealthCheck() and its dashboard work without configuring paths.
        endpoints.MapHealthChecks("/alive", new() { Predicate = _ => false }).OnlyGetAndHead().AllowAnonymous().DisableRateLimiting();
        endpoints.MapHealthChecks("/health", new() { Predicate = check => check.Tags.Contains("ready") }).OnlyGetAndHead().AllowAnonymous().DisableRateLimiting();
        return endpoints;
    }
}
