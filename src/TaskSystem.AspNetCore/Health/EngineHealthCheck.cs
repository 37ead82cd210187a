using Microsoft.Extensions.Diagnostics.HealthChecks;
using TaskSystem.Engine;

namespace TaskSystem.AspNetCore.Health;

/// <summary>Ready when the workers run: the engine's dispatcher loop is alive (false before start and while shutting down).</summary>
internal sealed class EngineHealthCheck(TaskEngine engine) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(engine.IsRunning
            ? HealthCheckResult.Healthy("The workers run.")
            : HealthCheckResult.Unhealthy("The workers do not run (starting, stopping, or the dispatcher stopped)."));
}
