using System.Collections.Concurrent;

namespace TaskSystem.Engine;

/// <summary>
/// Stops this node waits on for another node to carry out. The owner's store sends a signal in the commit that
/// takes a stopped task out of running; it lands here and ends the wait at once, so the waiting node need not
/// poll fast. A lost signal costs one slow poll.
/// </summary>
internal sealed class StopWaiters
{
    private readonly ConcurrentDictionary<long, TaskCompletionSource> _waiters = new();

    /// <summary>A task that completes when a signal says the task no longer runs. Call <see cref="Release"/> when done.</summary>
    public TaskCompletionSource Register(long taskId) =>
        _waiters.GetOrAdd(taskId, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public void Signal(long taskId)
    {
        if (_waiters.TryRemove(taskId, out var waiter))
        {
            waiter.TrySetResult();
        }
    }

    public void Release(long taskId, TaskCompletionSource waiter) => _waiters.TryRemove(KeyValuePair.Create(taskId, waiter));
}
