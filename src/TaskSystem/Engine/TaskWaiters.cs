namespace TaskSystem.Engine;

/// <summary>
/// Callers of <see cref="TaskManager.WaitAsync"/> on this node, by task id. The completer signals a task when it
/// writes an outcome for it, and a stop when it cancels a waiting task; a woken caller reads the task again, so a
/// signal for an outcome that is not final (a retry) costs one read. Outcomes written by other nodes send no signal
/// here: callers read again every poll interval. Cheap when nobody waits: one volatile read per outcome.
/// </summary>
internal sealed class TaskWaiters
{
    private readonly Dictionary<long, List<TaskCompletionSource>> _waiters = [];
    private int _count;

    public TaskCompletionSource Register(long id)
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            if (!_waiters.TryGetValue(id, out var list))
            {
                _waiters[id] = list = [];
            }

            list.Add(waiter);
            _count++;
        }

        return waiter;
    }

    public void Release(long id, TaskCompletionSource waiter)
    {
        lock (_waiters)
        {
            if (_waiters.TryGetValue(id, out var list) && list.Remove(waiter))
            {
                _count--;
                if (list.Count == 0)
                {
                    _waiters.Remove(id);
                }
            }
        }
    }

    public void Signal(long id)
    {
        if (Volatile.Read(ref _count) == 0)
        {
            return;
        }

        List<TaskCompletionSource>? woken;
        lock (_waiters)
        {
            if (!_waiters.Remove(id, out woken))
            {
                return;
            }

            _count -= woken.Count;
        }

        foreach (var waiter in woken)
        {
            waiter.TrySetResult();
        }
    }
}
