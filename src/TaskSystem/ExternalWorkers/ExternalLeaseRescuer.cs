using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TaskSystem.Diagnostics;
using TaskSystem.Engine;
using TaskSystem.Maintenance;

namespace TaskSystem.ExternalWorkers;

/// <summary>
/// The maintenance loop that takes back tasks whose external worker let its lease run out, every
/// <see cref="TaskSystemOptions.RescueInterval"/>, on every store: unlike a node's tasks, an external worker's live in
/// another process even beside a single-process SQLite store, so its leases must expire there too.
/// </summary>
internal sealed class ExternalLeaseRescuer(
    ExternalTasks tasks, EngineSettings settings, TaskMetrics metrics, TimeProvider time, ILogger<ExternalLeaseRescuer> logger)
    : IHostedService, IDisposable
{
    private MaintenanceLoop? _loop;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = new MaintenanceLoop("external lease rescuer", settings.RescueInterval, tasks.RescueAsync, metrics, time, logger);
        _loop.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => _loop?.StopAsync() ?? Task.CompletedTask;

    public void Dispose() => _loop?.Dispose();
}
