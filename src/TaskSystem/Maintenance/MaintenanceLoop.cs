using Microsoft.Extensions.Logging;
using TaskSystem.Diagnostics;

namespace TaskSystem.Maintenance;

/// <summary>
/// The shape every maintenance service shares (heartbeat, rescuer, stop poller): a name, an interval on the
/// injected clock, and a run that may fail without stopping the loop.
/// </summary>
internal sealed class MaintenanceLoop(string name, TimeSpan interval, Func<CancellationToken, Task> run, TimeProvider time, ILogger logger) : IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;

    public string Name => name;

    public void Start() => _loop = Task.Run(LoopAsync);

    public async Task StopAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
    }

    public void Dispose() => _stopping.Dispose();

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                try
                {
                    await run(_stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    Log.MaintenanceFailed(logger, name, interval, exception);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}
