using System.Collections.Concurrent;

namespace TaskSystem.Engine;

/// <summary>
/// The attempts this node runs, by task id, from claim until their outcome is written; and the abandoned handlers
/// that have not returned yet. A stop may arrive between the claim's commit and the registration of its attempt:
/// it is then remembered, for that claim only, and applied at registration.
/// </summary>
internal sealed class RunningTasks(TimeProvider time)
{
    private static readonly TimeSpan PendingStopLifetime = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<long, TaskExecution> _running = new();
    private readonly ConcurrentDictionary<long, (long ClaimId, long Since)> _pendingStops = new();
    private readonly ConcurrentDictionary<long, TaskExecution> _abandoned = new();

    public int Count => _running.Count;

    public ICollection<TaskExecution> Snapshot() => _running.Values;

    public bool TryGet(long id, out TaskExecution? execution) => _running.TryGetValue(id, out execution);

    public void Add(TaskExecution execution)
    {
        _running[execution.Id] = execution;
        if (_pendingStops.TryGetValue(execution.Id, out var pending) && pending.ClaimId == execution.Task.ClaimId
            && _pendingStops.TryRemove(KeyValuePair.Create(execution.Id, pending)))
        {
            execution.RequestStop();
        }
    }

    public void Remove(TaskExecution execution) => _running.TryRemove(KeyValuePair.Create(execution.Id, execution));

    /// <summary>
    /// Stops the attempt of that claim if it runs here; otherwise remembers the stop for a registration of that same
    /// claim that may follow (a later claim of the task, after a retry, is another attempt and is not stopped).
    /// </summary>
    public TaskExecution? RequestStop(long id, long? claimId)
    {
        if (_running.TryGetValue(id, out var execution) && execution.Task.ClaimId == claimId)
        {
            execution.RequestStop();
            return execution;
        }

        if (claimId is not { } claim)
        {
            return null;
        }

        // Write the pending stop, then look again: Add writes, then looks; so one of the two sees the other.
        var pending = (claim, time.GetTimestamp());
        _pendingStops[id] = pending;
        if (_running.TryGetValue(id, out execution) && execution.Task.ClaimId == claim
            && _pendingStops.TryRemove(KeyValuePair.Create(id, pending)))
        {
            execution.RequestStop();
            return execution;
        }

        return null;
    }

    /// <summary>Forgets pending stops that no registration claimed.</summary>
    public void PrunePendingStops()
    {
        foreach (var (id, pending) in _pendingStops)
        {
            if (time.GetElapsedTime(pending.Since) > PendingStopLifetime)
            {
                _pendingStops.TryRemove(KeyValuePair.Create(id, pending));
            }
        }
    }

    /// <summary>Remembers a handler abandoned while still running, until it returns.</summary>
    public void MarkAbandoned(TaskExecution execution) => _abandoned[execution.Id] = execution;

    public void ForgetAbandoned(TaskExecution execution) => _abandoned.TryRemove(KeyValuePair.Create(execution.Id, execution));

    /// <summary>True while an abandoned handler of this task still runs in this process.</summary>
    public bool HasAbandonedHandler(long id) => _abandoned.ContainsKey(id);
}
