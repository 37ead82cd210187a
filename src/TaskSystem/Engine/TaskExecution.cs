using TaskSystem.Storage;

namespace TaskSystem.Engine;

/// <summary>One claimed attempt in memory: its token, why it was cancelled, and when its outcome is on disk.</summary>
internal sealed class TaskExecution : IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();
    private readonly TaskCompletionSource _stopRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _shutdownRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _graceExpired = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<bool> _finalized = new(TaskCreationOptions.RunContinuationsAsynchronously);
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
    public Task StopRequested => _stopRequested.Task;

    public bool IsStopRequested => _stopRequested.Task.IsCompleted;

    /// <summary>Completes when the node shuts down while the attempt still runs.</summary>
    public Task ShutdownRequested => _shutdownRequested.Task;

    /// <summary>Completes a grace period after the token is cancelled: past it, a handler that has not returned is abandoned.</summary>
    public Task GraceExpired => _graceExpired.Task;

    /// <summary>Completes when the attempt's outcome is written (true) or was fenced off (false).</summary>
    public Task<bool> Finalized => _finalized.Task;

    /// <summary>Arms the grace timer; called once before the handler runs.</summary>
    public void Start(TimeProvider time, TimeSpan timeout, TimeSpan gracePeriod)
    {
        _cancellation.Token.UnsafeRegister(static (state, _) =>
        {
            var (execution, time, grace) = ((TaskExecution, TimeProvider, TimeSpan))state!;
            execution._graceTimer = time.CreateTimer(static s => ((TaskExecution)s!)._graceExpired.TrySetResult(), execution, grace, Timeout.InfiniteTimeSpan);
        }, (this, time, gracePeriod));
        _timeoutTimer = time.CreateTimer(static s => ((TaskExecution)s!).Cancel(StopReason.TimedOut), this, timeout, Timeout.InfiniteTimeSpan);
    }

    public void RequestStop()
    {
        _stopRequested.TrySetResult();
        Cancel(StopReason.Stopped);
    }

    public void RequestShutdown()
    {
        _shutdownRequested.TrySetResult();
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

    public void MarkFinalized(bool applied) => _finalized.TrySetResult(applied);

    public void Dispose()
    {
        _timeoutTimer?.Dispose();
        _graceTimer?.Dispose();
        _cancellation.Dispose();
    }
}
