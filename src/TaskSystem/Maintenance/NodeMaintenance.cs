using Microsoft.Extensions.Logging;
using TaskSystem.Diagnostics;
using TaskSystem.Engine;
using TaskSystem.Storage;

namespace TaskSystem.Maintenance;

/// <summary>
/// What each maintenance run does: renew this node's leases (heartbeat), take back the tasks of lost nodes
/// (rescuer), and act on stop requests whose signal was lost (stop poller).
/// </summary>
internal sealed class NodeMaintenance(
    ITaskStore store,
    RunningTasks running,
    WorkerSlots slots,
    WakeSignal wake,
    EngineSettings settings,
    TimeProvider time,
    ILogger<NodeMaintenance> logger)
{
    private const int RescueBatch = 500;
    private DateTimeOffset _startedAt;

    public void MarkStarted() => _startedAt = time.GetUtcNow();

    /// <summary>
    /// Renews the leases of the attempts this node holds, and only those, and records each renewal the store
    /// confirmed: self-fencing reads them. The lease is computed before the write is sent, so the one recorded is
    /// never later than the one in the store.
    /// </summary>
    public async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var lease = now + settings.LeaseDuration;
        var held = running.Snapshot().Where(e => e.Task.ClaimId is not null).ToList();
        var renewed = await store.NodeHeartbeatAsync(
            new NodeHeartbeatParams(settings.Node, now, lease, _startedAt, settings.Concurrency, slots.Busy)
            {
                Held = [.. held.Select(e => new HeldClaim(e.Id, e.Task.ClaimId!.Value))],
            },
            cancellationToken).ConfigureAwait(false);
        if (renewed.Count == 0)
        {
            return;
        }

        var ids = renewed.ToHashSet();
        foreach (var execution in held)
        {
            if (ids.Contains(execution.Id))
            {
                execution.RenewLease(lease);
            }
        }
    }

    /// <summary>Takes back tasks whose owner's lease expired; true when any went back to the queue.</summary>
    public async Task RescueAsync(CancellationToken cancellationToken)
    {
        var requeued = false;
        IReadOnlyList<RescuedTask> rescued;
        do
        {
            // Taken before the call: an attempt claimed after it has a fresh lease, and one that ends after it is no
            // longer running in the store, so neither can be mistaken for a lost outcome.
            var held = running.Snapshot().Select(e => e.Id).ToList();
            rescued = await store.TasksRescueAsync(new TasksRescueParams(time.GetUtcNow(), settings.Node, RescueBatch) { Held = held }, cancellationToken)
                .ConfigureAwait(false);
            foreach (var task in rescued)
            {
                Log.TaskRescued(logger, task.Id, task.FromNode, task.NewState.ToWire());
                requeued |= task.NewState == TaskState.Queued;
            }
        }
        while (rescued.Count == RescueBatch);

        if (requeued)
        {
            wake.Set();
        }
    }

    /// <summary>At start: every task left running by a crashed run goes back to the queue (its attempt counted).</summary>
    public async Task RecoverAsync(bool allRunning, CancellationToken cancellationToken)
    {
        var total = 0;
        IReadOnlyList<RescuedTask> rescued;
        do
        {
            var parameters = new TasksRescueParams(time.GetUtcNow(), settings.Node, RescueBatch)
            {
                AllRunning = allRunning,
                AllOfNode = settings.Node,
            };
            rescued = await store.TasksRescueAsync(parameters, cancellationToken).ConfigureAwait(false);
            total += rescued.Count;
        }
        while (rescued.Count == RescueBatch);

        if (total > 0)
        {
            Log.TasksRecovered(logger, total);
        }
    }

    public async Task PollStopsAsync(CancellationToken cancellationToken)
    {
        running.PrunePendingStops();
        if (running.Count == 0)
        {
            return;
        }

        var ids = await store.TasksStopRequestedAsync(new TasksStopRequestedParams(settings.Node), cancellationToken).ConfigureAwait(false);
        foreach (var id in ids)
        {
            if (running.TryGet(id, out var execution) && !execution!.IsStopRequested)
            {
                execution.RequestStop();
            }
        }
    }
}
