using System.Collections.Concurrent;

namespace TaskSystem.Engine;

/// <summary>
/// The attempts this node runs, by task id, from claim until their outcome is written. A stop may arrive between
/// the claim's commit and the registration of its attempt: it is then remembered and applied at registration.
/// </summary>
internal sealed class RunningTasks(TimeProvider time)
{
    private static readonly TimeSpan PendingStopLifetime = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<long, TaskExecution> _running = new();
    private readonly ConcurrentDictionary<long, long> _pendingStops = new();

    public int Count => _running.Count;

    public ICollection<TaskExecution> Snapshot() => _running.Values;

    public bool TryGet(long id, out TaskExecution? execution) => _running.TryGetValue(id, out execution);

    public void Add(TaskExecution execution)
    {
        _running[execution.Id] = execution;
        if (_pendingStops.TryRemove(execution.Id, out _))
        {
            execution.RequestStop();
        }
    }

    public void Remove(TaskExecution execution) => _running.TryRemove(KeyValuePair.Create(execution.Id, execution));

    /// <summary>Stops the attempt if it runs here; otherwise remembers the stop for a registration that may follow.</summary>
    public TaskExecution? RequestStop(long id)
    {
        if (_running.TryGetValue(id, out var execution))
        {
            execution.RequestStop();
            return execution;
        }

        // Write the pending stop, then look again: Add writes, then looks; so one of the two sees the other.
        _pendingStops[id] = time.GetTimestamp();
        if (_running.TryGetValue(id, out execution) && _pendingStops.TryRemove(id, out _))
        {
            execution.RequestStop();
            return execution;
        }

        return null;
    }

    /// <summary>Forgets pending stops that no registration claimed.</summary>
    public void PrunePendingStops()
    {
        foreach (var (id, since) in _pendingStops)
        {
            if (time.GetElapsedTime(since) > PendingStopLifetime)
            {
                _pendingStops.TryRemove(id, out _);
            }
        }
    }
}
