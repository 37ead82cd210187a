using Microsoft.Extensions.Logging;
using TaskSystem.Diagnostics;

namespace TaskSystem.Maintenance;

/// <summary>
/// The shape every maintenance service shares (heartbeat, rescuer, stop poller): a name, an interval on the
/// injected clock, and a run that may fail without stopping the loop. A loop with a <see cref="RetryInterval"/> runs
/// again that much sooner after a failure (the heartbeat: one lost beat must not cost a whole interval of lease).
/// Each run is counted and timed, by outcome (<c>tasksystem.maintenance.runs</c> and <c>.duration</c>, tagged with the
/// name, spaces made underscores).
/// </summary>
internal sealed class MaintenanceLoop(string name, TimeSpan interval, Func<CancellationToken, Task> run, TaskMetrics metrics, TimeProvider time, ILogger logger) : IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly KeyValuePair<string, object?> _nameTag = new(TaskMetrics.MaintenanceName, name.Replace(' ', '_'));
    private Task _loop = Task.CompletedTask;
    private volatile bool _disposed;

    public string Name => name;

    /// <summary>The wait after a failed run, until a run succeeds again; null to keep the interval.</summary>
    public TimeSpan? RetryInterval { get; init; }

    public void Start() => _loop = Task.Run(LoopAsync);

    public async Task StopAsync()
    {
        if (_disposed)
        {
            // A host may stop its services after disposing them (a test host torn down twice): nothing runs any more.
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
    }

    public void Dispose()
    {
        _disposed = true;
        _stopping.Dispose();
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                var started = time.GetTimestamp();
                try
                {
                    await run(_stopping.Token).ConfigureAwait(false);
                    metrics.MaintenanceRan(_nameTag, succeeded: true, time.GetElapsedTime(started));
                    if (timer.Period != interval)
                    {
                        // Setting the period restarts the countdown: only after a retry, so a healthy loop keeps its beat.
                        timer.Period = interval;
                    }
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    metrics.MaintenanceRan(_nameTag, succeeded: false, time.GetElapsedTime(started));
                    var next = RetryInterval ?? interval;
                    if (timer.Period != next)
                    {
                        timer.Period = next;
                    }

                    Log.MaintenanceFailed(logger, name, next, exception);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}
