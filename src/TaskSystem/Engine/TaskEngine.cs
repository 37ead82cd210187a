using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TaskSystem.Diagnostics;
using TaskSystem.Handlers;
using TaskSystem.Maintenance;
using TaskSystem.Storage;

namespace TaskSystem.Engine;

/// <summary>
/// The node's lifetime: at start, migrate and recover what a crash left running, then run the dispatcher,
/// the completer and the maintenance loops; at shutdown, stop claiming, let running tasks finish within the
/// shutdown timeout, cancel the rest and put them back in the queue.
/// </summary>
internal sealed class TaskEngine(
    ITaskStore store,
    HandlerRegistry handlers,
    RunningTasks running,
    Dispatcher dispatcher,
    NodeMaintenance maintenance,
    SignalHandler signals,
    Housekeeping housekeeping,
    SelfFencing fencing,
    EngineSettings settings,
    TimeProvider time,
    ILogger<TaskEngine> logger,
    TaskMetrics metrics) : IHostedService, IDisposable
{
    private readonly List<MaintenanceLoop> _loops = [];
    private Task? _stopped;
    private readonly CancellationTokenSource _listening = new();
    private Task _listen = Task.CompletedTask;

    /// <summary>True while this node takes work: its dispatcher loop runs (the readiness probe asks this).</summary>
    public bool IsRunning => dispatcher.IsRunning;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Continuations a write of this node released (recovery included) wake this node's dispatcher and long polls.
        store.TasksReleased = signals.OnTasksAvailable;
        await store.MigrateAsync(cancellationToken).ConfigureAwait(false);
        await ClaimNodeNameAsync(cancellationToken).ConfigureAwait(false);
        await maintenance.RecoverAsync(store.Capabilities.SingleProcess, cancellationToken).ConfigureAwait(false);
        maintenance.MarkStarted();
        await maintenance.HeartbeatAsync(cancellationToken).ConfigureAwait(false);
        await housekeeping.RefreshCountsAsync(cancellationToken).ConfigureAwait(false);

        dispatcher.Start();
        if (store is ITaskNotifier notifier)
        {
            _listen = Task.Run(() => notifier.ListenAsync(signals, _listening.Token), CancellationToken.None);
        }

        _loops.Add(new MaintenanceLoop("heartbeat", settings.HeartbeatInterval, maintenance.HeartbeatAsync, metrics, time, logger)
        {
            // A failed beat is tried again soon: several tries fit before self-fencing gives up on a lease.
            RetryInterval = settings.HeartbeatInterval / 4,
        });
        _loops.Add(new MaintenanceLoop("stop poller", settings.StopPollInterval, maintenance.PollStopsAsync, metrics, time, logger));
        _loops.Add(new MaintenanceLoop("retention", housekeeping.RetentionInterval, housekeeping.PruneAsync, metrics, time, logger));
        _loops.Add(new MaintenanceLoop("queue counts", housekeeping.CountsRefreshInterval, housekeeping.RefreshCountsAsync, metrics, time, logger));
        if (!store.Capabilities.SingleProcess)
        {
            // With one process per database, every running task is ours: nothing can be lost by another node.
            _loops.Add(new MaintenanceLoop("rescuer", settings.RescueInterval, maintenance.RescueAsync, metrics, time, logger));

            // And every lease of ours may be taken by another node once it runs out: stop our handlers before that.
            _loops.Add(new MaintenanceLoop("self-fencing", fencing.CheckInterval, fencing.CheckAsync, metrics, time, logger));
        }

        foreach (var loop in _loops)
        {
            loop.Start();
        }

        Log.EngineStarted(logger, settings.Node, settings.Concurrency, string.Join(", ", handlers.Types), InstrumentedTaskStore.Unwrap(store).GetType().Name);
    }

    /// <summary>Idempotent: hosts may call it more than once, even concurrently; every caller waits for the one shutdown.</summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_loops)
        {
            return _stopped ??= StopOnceAsync(cancellationToken);
        }
    }

    private async Task StopOnceAsync(CancellationToken cancellationToken)
    {
        await dispatcher.StopClaimingAsync().ConfigureAwait(false);
        Log.EngineStopping(logger, settings.Node, running.Count, settings.ShutdownTimeout);

        if (!await AllFinalizedWithinAsync(settings.ShutdownTimeout, cancellationToken).ConfigureAwait(false))
        {
            var remaining = running.Snapshot();
            Log.ShutdownCancelling(logger, remaining.Count);
            foreach (var execution in remaining)
            {
                execution.RequestShutdown();
            }

            // Handlers that honour cancellation finish now; the rest are abandoned after the grace period.
            await AllFinalizedWithinAsync(settings.StopGracePeriod + TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
        }

        await dispatcher.StopAsync(cancellationToken).ConfigureAwait(false);
        foreach (var loop in _loops)
        {
            await loop.StopAsync().ConfigureAwait(false);
            loop.Dispose();
        }

        _loops.Clear();
        await _listening.CancelAsync().ConfigureAwait(false);
        try
        {
            await _listen.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped listening.
        }
        try
        {
            await store.NodeRemoveAsync(settings.Node, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            Log.MaintenanceFailed(logger, "node removal", TimeSpan.Zero, exception);
        }

        Log.EngineStopped(logger, settings.Node);
    }

    public void Dispose() => _listening.Dispose();

    /// <summary>
    /// Recovery takes back every task left running under this node's name, so two live nodes must never share
    /// one. A name whose heartbeat is older than a lease belongs to a node that is gone (a crash of this one, say)
    /// and is free. With a single-process store the file lock already proves that nobody else is alive.
    /// </summary>
    private async Task ClaimNodeNameAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var staleBefore = store.Capabilities.SingleProcess ? DateTimeOffset.MaxValue : now - settings.LeaseDuration;
        if (!await store.NodeStartAsync(new NodeStartParams(settings.Node, now, staleBefore, settings.Concurrency), cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidOperationException(
                $"Another live node is named '{settings.Node}' (it sent a heartbeat within the last {settings.LeaseDuration}). " +
                "Give every node its own TaskSystem:NodeName; a crashed node's name is free again once its heartbeat is older than TaskSystem:LeaseDuration.");
        }
    }

    private async Task<bool> AllFinalizedWithinAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var pending = running.Snapshot().Select(e => e.Finalized).ToArray();
        if (pending.Length == 0)
        {
            return true;
        }

        try
        {
            await Task.WhenAll(pending).WaitAsync(timeout, time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
