using Microsoft.Extensions.Diagnostics.HealthChecks;
using TaskSystem.Storage;

namespace TaskSystem.AspNetCore.Health;

/// <summary>
/// Ready when the store answers a cheap query and this node's writes go through (a full disk fails writes while reads
/// still answer): see <see cref="WriteHealth"/>.
/// </summary>
internal sealed class StoreHealthCheck(ITaskStore store, WriteHealth writes) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await store.NodesListAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("The store does not answer.", exception);
        }

        var report = writes.Check();
        return report.CanWrite ? HealthCheckResult.Healthy("The store answers and writes go through.") : HealthCheckResult.Unhealthy(report.Description);
    }
}
