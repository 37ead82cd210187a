using TaskSystem.Engine;
using TaskSystem.ExternalWorkers;
using TaskSystem.Storage;

namespace TaskSystem;

/// <summary>
/// Queue controls for operators: pause and resume a queue on every node, durably, and list the queues. A paused queue's
/// tasks are skipped by every claim (nodes' and external workers') from the moment the pause is answered; running ones
/// finish. Resuming wakes this node's dispatcher and long polls at once, and the other nodes through the store.
/// </summary>
public sealed class TaskQueues
{
    private readonly ITaskStore _store;
    private readonly WakeSignal _wake;
    private readonly WorkerSignals _workers;
    private readonly QueueLimits _limits;
    private readonly TimeProvider _time;
    private readonly bool _runsHandlers;

    internal TaskQueues(ITaskStore store, WakeSignal wake, WorkerSignals workers, QueueLimits limits, TimeProvider time, bool runsHandlers)
    {
        _store = store;
        _wake = wake;
        _workers = workers;
        _limits = limits;
        _time = time;
        _runsHandlers = runsHandlers;
    }

    /// <summary>Pauses <paramref name="queue"/> on every node. Returns false when it was paused already.</summary>
    /// <exception cref="TaskValidationException">The name is not a valid queue name.</exception>
    public Task<bool> PauseAsync(string queue, CancellationToken cancellationToken = default)
    {
        Check(queue);
        return _store.QueuePauseSetAsync(new QueuePauseSetParams(queue, Paused: true, _time.GetUtcNow()), cancellationToken);
    }

    /// <summary>Resumes <paramref name="queue"/> on every node, waking the dispatchers. Returns false when it was not paused.</summary>
    /// <exception cref="TaskValidationException">The name is not a valid queue name.</exception>
    public async Task<bool> ResumeAsync(string queue, CancellationToken cancellationToken = default)
    {
        Check(queue);
        var resumed = await _store.QueuePauseSetAsync(new QueuePauseSetParams(queue, Paused: false, _time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        if (resumed)
        {
            // This node's own dispatcher and long polls; other nodes were told in the commit.
            _wake.Set();
            _workers.TasksReady();
        }

        return resumed;
    }

    /// <summary>
    /// Every queue that has tasks or is paused, by name, with its counts per state (exact, from the same counts as the
    /// dashboard: their cost follows the unfinished tasks), its pause state, and this node's settings for it.
    /// </summary>
    public async Task<IReadOnlyList<QueueInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        var counts = await _store.TasksCountByQueueAsync(cancellationToken).ConfigureAwait(false);
        var paused = (await _store.QueuesPausedAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(p => p.Queue, p => p.PausedAt, StringComparer.Ordinal);
        var byQueue = counts.GroupBy(c => c.Queue, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToDictionary(c => c.State, c => c.Count), StringComparer.Ordinal);
        return [.. byQueue.Keys.Union(paused.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(name => new QueueInfo(
            name,
            paused.ContainsKey(name),
            paused.TryGetValue(name, out var at) ? at : null,
            byQueue.TryGetValue(name, out var states) ? states : new Dictionary<TaskState, long>(),
            _runsHandlers && _limits.Serves(name),
            _limits.LimitOf(name)))];
    }

    private static void Check(string queue)
    {
        if (Configuration.TaskRules.CheckQueue(queue) is { } error)
        {
            throw new TaskValidationException("queue", error);
        }
    }
}
