using TaskSystem.Storage;

namespace TaskSystem.Engine;

/// <summary>Turns other nodes' signals into local actions: wake the dispatcher, or stop an attempt running here.</summary>
internal sealed class SignalHandler(WakeSignal wake, RunningTasks running) : ITaskSignalHandler
{
    public void OnTasksAvailable() => wake.Set();

    public void OnStopRequested(long taskId)
    {
        if (running.TryGet(taskId, out var execution))
        {
            execution!.RequestStop();
        }
    }
}
