using TaskSystem.ExternalWorkers;
using TaskSystem.Scheduling;
using TaskSystem.Storage;

namespace TaskSystem.Engine;

/// <summary>
/// Turns other nodes' signals into local actions: wake the dispatcher and external workers' long polls, stop an
/// attempt running here (or wake the heartbeat of an external worker holding the task), end a wait for a stop, read
/// the schedules again.
/// </summary>
internal sealed class SignalHandler(WakeSignal wake, RunningTasks running, StopWaiters stopWaiters, WorkerSignals workers, ScheduleSignal schedules)
    : ITaskSignalHandler
{
    public void OnTasksAvailable()
    {
        wake.Set();
        workers.TasksReady();
    }

    public void OnStopRequested(long taskId)
    {
        if (running.TryGet(taskId, out var execution))
        {
            execution!.RequestStop();
        }
        else
        {
            workers.Stops.Signal(taskId);
        }
    }

    public void OnTaskStopped(long taskId) => stopWaiters.Signal(taskId);

    public void OnSchedulesChanged() => schedules.Changed();
}
