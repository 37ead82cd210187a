using TaskSystem.Storage;

namespace TaskSystem.Engine;

/// <summary>Turns other nodes' signals into local actions: wake the dispatcher, stop an attempt running here, end a wait for a stop.</summary>
internal sealed class SignalHandler(WakeSignal wake, RunningTasks running, StopWaiters stopWaiters) : ITaskSignalHandler
{
    public void OnTasksAvailable() => wake.Set();

    public void OnStopRequested(long taskId)
    {
        if (running.TryGet(taskId, out var execution))
        {
            execution!.RequestStop();
        }
    }

    public void OnTaskStopped(long taskId) => stopWaiters.Signal(taskId);
}
