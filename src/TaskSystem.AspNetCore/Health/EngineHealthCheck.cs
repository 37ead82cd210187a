using Microsoft.Extensions.Diagnostics.HealthChecks;
using TaskSystem.Engine;

namespace TaskSystem.AspNetCore.Health;

/// <summary>
/// Ready when the workers run: the engine's dispatcher loop is alive (false before start and while shutting down).
/// A client-only app (<c>AddTaskSystemClient</c>) has no workers to wait for, and is ready.
/// </summary>
internal sealed class EngineHealthCheck(IServiceProvider services) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(services.GetService<TaskEngine>() switch
        {
            null => HealthCheckResult.Healthy("No workers here: this app only enqueues (AddTaskSystemClient)."),
            { IsRunning: true } => HealthCheckResult.Healthy("The workers run."),
            _ => HealthCheckResult.Unhealthy("The workers do not run (starting, stopping, or the dispatcher stopped)."),
        });
}
