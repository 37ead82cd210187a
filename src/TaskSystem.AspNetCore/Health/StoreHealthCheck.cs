using Microsoft.Extensions.Diagnostics.HealthChecks;
using TaskSystem.Storage;

namespace TaskSystem.AspNetCore.Health;

/// <summary>Ready when the store answers a cheap query.</summary>
internal sealed class StoreHealthCheck(ITaskStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await store.NodesListAsync(cancellationToken);
            return HealthCheckResult.Healthy("The store answers.");
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("The store does not answer.", exception);
        }
    }
}
