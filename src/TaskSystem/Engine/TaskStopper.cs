using Microsoft.Extensions.Options;
using TaskSystem.Diagnostics;
using TaskSystem.ExternalWorkers;
using TaskSystem.Storage;

namespace TaskSystem.Engine;

/// <summary>
/// The stop protocol, across nodes: write the stop (durable first), then make the task's owner act on it and wait
/// until the task no longer runs. A queued or scheduled task is cancelled by the write itself; a running one is
/// cancelled here when this node owns it, or by its owner after a signal; reads of the row are the safety net
/// behind every signal.
/// </summary>
internal sealed class TaskStopper
{
    /// <summary>The poll behind a local stop: the execution's own signal ends the wait; this catches a rescue.</summary>
    private static readonly TimeSpan LocalPollInterval = TimeSpan.FromMilliseconds(25);

    /// <summary>The poll behind the "stopped" signal of another node: it matters only when that signal is lost.</summary>
    private static readonly TimeSpan RemotePollInterval = TimeSpan.FromMilliseconds(250);

    private readonly ITaskStore _store;
    private readonly ITaskNotifier? _notifier;
    private readonly RunningTasks _running;
    private readonly StopWaiters _stopWaiters;
    private readonly TimeProvider _time;
    private readonly TaskMetrics _metrics;
    private readonly WorkerSignals _workerSignals;
    private readonly string _nodeName;
    private readonly TimeSpan _wait;

    public TaskStopper(
        ITaskStore store,
        IOptions<TaskSystemOptions> options,
        RunningTasks running,
        StopWaiters stopWaiters,
        TimeProvider time,
        TaskMetrics metrics,
        WorkerSignals workerSignals)
    {
        _workerSignals = workerSignals;
        _store = store;
        _notifier = store as ITaskNotifier;
        _running = running;
        _stopWaiters = stopWaiters;
        _time = time;
        _metrics = metrics;
        _nodeName = options.Value.NodeName;

        // Long enough for the owner to abandon a handler that ignores its stop, plus a margin for the round trips.
        _wait = options.Value.StopGracePeriod + TimeSpan.FromSeconds(2);
    }

    /// <summary>Stops a task and waits until it no longer runs (or the wait is over: <see cref="StopOutcome.Pending"/>).</summary>
    public async Task<StopResult> StopAsync(long id, CancellationToken cancellationToken)
    {
        var result = await _store.TaskCancelAsync(new TaskCancelParams(id, _time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        if (result.Outcome == TaskCancelOutcome.Cancelled)
        {
            _metrics.Cancelled(result.Task!);
        }

        return result.Outcome switch
        {
            TaskCancelOutcome.NotFound => new StopResult(StopOutcome.NotFound, null),
            TaskCancelOutcome.Cancelled => new StopResult(StopOutcome.Cancelled, TaskInfo.From(result.Task!)),
            TaskCancelOutcome.AlreadyCancelled => new StopResult(StopOutcome.AlreadyCancelled, TaskInfo.From(result.Task!)),
            TaskCancelOutcome.AlreadyFinished => new StopResult(StopOutcome.AlreadyFinished, TaskInfo.From(result.Task!)),
            _ => await AwaitStopAsync(result.Task!, cancellationToken).ConfigureAwait(false),
        };
    }

    /// <summary>
    /// Stops a task without waiting for it (bulk stops): the stop is written, and a running task's owner is told at
    /// once (this node's execution, another node by its signal, an external worker's waiting heartbeat).
    /// </summary>
    public async Task<TaskCancelOutcome> RequestStopAsync(long id, CancellationToken cancellationToken)
    {
        var result = await _store.TaskCancelAsync(new TaskCancelParams(id, _time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        if (result.Outcome == TaskCancelOutcome.Cancelled)
        {
            _metrics.Cancelled(result.Task!);
        }
        else if (result.Outcome == TaskCancelOutcome.StopRequested && result.Task is { } task)
        {
            if (ExternalHolder.IsExternal(task.Node))
            {
                _workerSignals.Stops.Signal(task.Id);
            }
            else if (task.Node == _nodeName)
            {
                _running.RequestStop(task.Id, task.ClaimId);
            }
            else if (_notifier is not null && task.Node is not null)
            {
                await _notifier.NotifyStopAsync(task.Id, task.Node, cancellationToken).ConfigureAwait(false);
            }
        }

        return result.Outcome;
    }

    /// <summary>The stop is on disk; now make the owner act on it and wait until the task no longer runs.</summary>
    private async Task<StopResult> AwaitStopAsync(TaskRecord task, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        if (ExternalHolder.IsExternal(task.Node))
        {
            // An external worker learns of the stop from its heartbeat: answer the one waiting here at once.
            _workerSignals.Stops.Signal(task.Id);
        }

        if (task.Node == _nodeName)
        {
            var execution = _running.RequestStop(task.Id, task.ClaimId);
            if (execution is not null)
            {
                try
                {
                    await execution.Finalized.WaitAsync(_wait, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // Reported as pending below if the store still shows it running.
                }
            }
        }
        else if (_notifier is not null && task.Node is not null)
        {
            // Listen for the owner's "stopped" before telling it to stop, so that the answer cannot come first.
            var stopped = _stopWaiters.Register(task.Id);
            try
            {
                await _notifier.NotifyStopAsync(task.Id, task.Node, cancellationToken).ConfigureAwait(false);
                return await PollAsync(task.Id, started, stopped.Task, RemotePollInterval, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _stopWaiters.Release(task.Id, stopped);
            }
        }

        return await PollAsync(task.Id, started, signal: null, LocalPollInterval, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads the task until it no longer runs, or the wait is over; between reads, waits for the poll interval or the signal.</summary>
    private async Task<StopResult> PollAsync(long id, long started, Task? signal, TimeSpan pollInterval, CancellationToken cancellationToken)
    {
        while (true)
        {
            var current = await _store.TaskGetAsync(id, cancellationToken).ConfigureAwait(false);
            if (current is null)
            {
                return new StopResult(StopOutcome.NotFound, null);
            }

            switch (current.State)
            {
                case TaskState.Cancelled:
                    return new StopResult(StopOutcome.Cancelled, TaskInfo.From(current));
                case TaskState.Succeeded or TaskState.Failed:
                    return new StopResult(StopOutcome.AlreadyFinished, TaskInfo.From(current));
                case TaskState.Queued or TaskState.Scheduled:
                    // Retried by someone in between: stop that too.
                    return await StopAsync(id, cancellationToken).ConfigureAwait(false);
            }

            if (_time.GetElapsedTime(started) >= _wait)
            {
                return new StopResult(StopOutcome.Pending, TaskInfo.From(current));
            }

            // A signal that already came is spent: from now on only the poll paces the reads.
            signal = signal is { IsCompleted: true } ? null : signal;
            var poll = Task.Delay(pollInterval, _time, cancellationToken);
            await (signal is null ? poll : Task.WhenAny(poll, signal)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }
}
