using TaskSystem.Storage;

namespace TaskSystem.Engine;

/// <summary>
/// One claimed attempt in memory: its token, why it was cancelled, and when its outcome is on disk.
/// The signals beyond the token are created only when somebody waits on them: most attempts just run and finish.
/// </summary>
internal sealed class TaskExecution : IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();
    private TaskCompletionSource? _stopRequested;
    private TaskCompletionSource? _shutdownRequested;
    private TaskCompletionSource? _graceExpired;
    private readonly object _gate = new();
    private TaskCompletionSource<bool>? _finalized;
    private bool? _finalResult;
    private int _reason;
    private ITimer? _timeoutTimer;
    private ITimer? _graceTimer;

    public TaskExecution(TaskRecord task) => Task = task;

    public TaskRecord Task { get; }

    public long Id => Task.Id;

    public CancellationToken Token => _cancellation.Token;

    /// <summary>The first cause of cancellation; later ones do not replace it.</summary>
    public StopReason Reason => (StopReason)Volatile.Read(ref _reason);

    /// <summary>Completes when a stop is requested, whatever else cancelled the attempt before.</summary>
    public Task StopRequested => Signal(ref _stopRequested).Task;

    public bool IsStopRequested => Volatile.Read(ref _stopRequested)?.Task.IsCompleted == true;

    /// <summary>Completes when the node shuts down while the attempt still runs.</summary>
    public Task ShutdownRequested => Signal(ref _shutdownRequested).Task;

    public bool IsShutdownRequested => Volatile.Read(ref _shutdownRequested)?.Task.IsCompleted == true;

    /// <summary>Completes a grace period after the token is cancelled: past it, a handler that has not returned is abandoned.</summary>
    public Task GraceExpired => Signal(ref _graceExpired).Task;

    /// <summary>Completes when the attempt's outcome is written (true) or was fenced off (false).</summary>
    public Task<bool> Finalized
    {
        get
        {
            lock (_gate)
            {
                if (_finalResult is { } result)
                {
                    return result ? CompletedTrue : CompletedFalse;
                }

                return (_finalized ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
        }
    }

    public bool IsFinalized
    {
        get
        {
            lock (_gate)
            {
                return _finalResult is not null;
            }
        }
    }

    /// <summary>Arms the timeout and the grace timer; called once, when the handler did not finish at once.</summary>
    public void Start(TimeProvider time, TimeSpan timeout, TimeSpan gracePeriod)
    {
        _ = Signal(ref _graceExpired);
        _cancellation.Token.UnsafeRegister(static (state, _) =>
        {
            var (execution, time, grace) = ((TaskExecution, TimeProvider, TimeSpan))state!;
            execution._graceTimer = time.CreateTimer(static s => Signal(ref ((TaskExecution)s!)._graceExpired).TrySetResult(), execution, grace, Timeout.InfiniteTimeSpan);
        }, (this, time, gracePeriod));
        _timeoutTimer = time.CreateTimer(static s => ((TaskExecution)s!).Cancel(StopReason.TimedOut), this, timeout, Timeout.InfiniteTimeSpan);
    }

    public void RequestStop()
    {
        Signal(ref _stopRequested).TrySetResult();
        Cancel(StopReason.Stopped);
    }

    public void RequestShutdown()
    {
        Signal(ref _shutdownRequested).TrySetResult();
        Cancel(StopReason.ShuttingDown);
    }

    public void Cancel(StopReason reason)
    {
        if (Interlocked.CompareExchange(ref _reason, (int)reason, (int)StopReason.None) == (int)StopReason.None)
        {
            try
            {
                _cancellation.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The attempt already ended: a timer fired as it was disposed.
            }
        }
    }

    public void MarkFinalized(bool applied)
    {
        TaskCompletionSource<bool>? waiter;
        lock (_gate)
        {
            _finalResult ??= applied;
            waiter = _finalized;
        }

        waiter?.TrySetResult(applied);
    }

    public void Dispose()
    {
        _timeoutTimer?.Dispose();
        _graceTimer?.Dispose();
        _cancellation.Dispose();
    }

    /// <summary>The signal in <paramref name="field"/>, created by whoever needs it first.</summary>
    private static TaskCompletionSource Signal(ref TaskCompletionSource? field)
    {
        var signal = Volatile.Read(ref field);
        if (signal is not null)
        {
            return signal;
        }

        var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return Interlocked.CompareExchange(ref field, created, null) ?? created;
    }

    private static readonly Task<bool> CompletedTrue = System.Threading.Tasks.Task.FromResult(true);
    private static readonly Task<bool> CompletedFalse = System.Threading.Tasks.Task.FromResult(false);
}
