using TaskSystem.Storage;

namespace TaskSystem.Engine;

/// <summary>
/// One claimed attempt in memory: its token, why it was cancelled, whether its worker slot and its outcome have been
/// handed back (each exactly once, by the handler's return or by its abandonment, whichever comes first), and when
/// its outcome is on disk. The signals beyond the token are created only when somebody waits on them.
/// </summary>
internal sealed class TaskExecution : IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();
    private readonly object _gate = new();
    private TaskCompletionSource? _stopRequested;
    private TaskCompletionSource? _shutdownRequested;
    private TaskCompletionSource<bool>? _finalized;
    private bool? _finalResult;
    private int _reason;
    private int _slotReleased;
    private int _outcomeSubmitted;
    private int _handlerReturned;
    private int _abandoned;
    private int _phase;
    private ITimer? _timeoutTimer;
    private ITimer? _graceTimer;
    private long _leaseExpiresAtTicks;

    public TaskExecution(TaskRecord task)
    {
        Task = task;
        _leaseExpiresAtTicks = task.LeaseExpiresAt?.UtcTicks ?? DateTimeOffset.MaxValue.UtcTicks;
    }

    /// <summary>
    /// An attempt claimed before a worker was free for it: it holds no worker slot until <see cref="TryBegin"/>, and
    /// may instead be resolved unstarted (<see cref="TryResolveUnstarted"/>), whichever comes first.
    /// </summary>
    public static TaskExecution ClaimedAhead(TaskRecord task) => new(task) { _phase = PhaseWaiting, _slotReleased = 1 };

    /// <summary>When it was claimed ahead (a timestamp), to release it if no worker frees up in time.</summary>
    public long ClaimedAheadTimestamp { get; set; }

    /// <summary>True while it waits for a worker: claimed ahead and neither begun nor resolved.</summary>
    public bool IsWaitingForWorker => Volatile.Read(ref _phase) == PhaseWaiting;

    /// <summary>True for the one caller that starts a waiting attempt: it now holds the caller's worker slot.</summary>
    public bool TryBegin()
    {
        if (Interlocked.CompareExchange(ref _phase, PhaseBegun, PhaseWaiting) != PhaseWaiting)
        {
            return false;
        }

        Volatile.Write(ref _slotReleased, 0);
        return true;
    }

    /// <summary>True for the one caller that ends a waiting attempt before any worker ran it.</summary>
    public bool TryResolveUnstarted() => Interlocked.CompareExchange(ref _phase, PhaseResolved, PhaseWaiting) == PhaseWaiting;

    public TaskRecord Task { get; }

    public long Id => Task.Id;

    /// <summary>When the attempt started, for the duration in the log.</summary>
    public long StartedTimestamp { get; set; }

    /// <summary>The outcome handed to the completer, once it has been.</summary>
    public TaskCompletion? SubmittedCompletion { get; set; }

    public CancellationToken Token => _cancellation.Token;

    /// <summary>The first cause of cancellation; later ones do not replace it.</summary>
    public StopReason Reason => (StopReason)Volatile.Read(ref _reason);

    /// <summary>Completes when a stop is requested, whatever else cancelled the attempt before.</summary>
    public Task StopRequested => Signal(ref _stopRequested).Task;

    public bool IsStopRequested => Volatile.Read(ref _stopRequested)?.Task.IsCompleted == true;

    /// <summary>Completes when the node shuts down while the attempt still runs.</summary>
    public Task ShutdownRequested => Signal(ref _shutdownRequested).Task;

    public bool IsShutdownRequested => Volatile.Read(ref _shutdownRequested)?.Task.IsCompleted == true;

    /// <summary>True once the handler's call has returned (or thrown), even if it was abandoned before.</summary>
    public bool HandlerReturned => Volatile.Read(ref _handlerReturned) == 1;

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

    /// <summary>
    /// Arms the timeout, and a grace timer that starts when the token is cancelled: if the handler has not returned
    /// when it fires, <paramref name="onGraceExpired"/> abandons the attempt. Called before the handler runs, so that
    /// even a handler that blocks its thread is timed out and abandoned.
    /// </summary>
    public void Start(TimeProvider time, TimeSpan timeout, TimeSpan gracePeriod, Action<TaskExecution> onGraceExpired)
    {
        _cancellation.Token.UnsafeRegister(static (state, _) =>
        {
            var (execution, time, grace, onGraceExpired) = ((TaskExecution, TimeProvider, TimeSpan, Action<TaskExecution>))state!;
            execution._graceTimer = time.CreateTimer(
                static s =>
                {
                    var (execution, onGraceExpired) = ((TaskExecution, Action<TaskExecution>))s!;
                    onGraceExpired(execution);
                },
                (execution, onGraceExpired),
                grace,
                Timeout.InfiniteTimeSpan);
        }, (this, time, gracePeriod, onGraceExpired));
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
        if (Interlocked.CompareExchange(ref _reason, (int)reason, (int)StopReason.None) != (int)StopReason.None)
        {
            return;
        }

        try
        {
            _cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The attempt already ended: a timer fired as it was disposed.
        }
        catch (AggregateException)
        {
            // A callback the handler registered on its token threw (completing a finished TaskCompletionSource, say).
            // Every callback has run and the token is cancelled; the handler's own outcome will say what went wrong.
            // Letting it escape would crash the process from a timer thread.
        }
    }

    /// <summary>
    /// The end of the lease the store is known to hold for this attempt: set by its claim, moved on by each heartbeat
    /// that confirmed the renewal. A renewal whose answer was lost is not counted, so this is never later than the truth.
    /// </summary>
    public DateTimeOffset LeaseExpiresAt => new(Volatile.Read(ref _leaseExpiresAtTicks), TimeSpan.Zero);

    /// <summary>Records a confirmed renewal; a late answer never moves the lease back.</summary>
    public void RenewLease(DateTimeOffset expiresAt)
    {
        var ticks = expiresAt.UtcTicks;
        var current = Volatile.Read(ref _leaseExpiresAtTicks);
        while (ticks > current)
        {
            var seen = Interlocked.CompareExchange(ref _leaseExpiresAtTicks, ticks, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    public void MarkHandlerReturned() => Volatile.Write(ref _handlerReturned, 1);

    /// <summary>Set when the grace period ran out before the handler returned.</summary>
    public bool WasAbandoned => Volatile.Read(ref _abandoned) == 1;

    public void MarkAbandoned() => Volatile.Write(ref _abandoned, 1);

    /// <summary>True for the one caller that gets to free the worker slot.</summary>
    public bool TryReleaseSlot() => Interlocked.Exchange(ref _slotReleased, 1) == 0;

    /// <summary>True for the one caller that gets to hand over the outcome.</summary>
    public bool TrySubmitOutcome() => Interlocked.Exchange(ref _outcomeSubmitted, 1) == 0;

    public bool IsOutcomeSubmitted => Volatile.Read(ref _outcomeSubmitted) == 1;

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

    private const int PhaseBegun = 0;
    private const int PhaseWaiting = 1;
    private const int PhaseResolved = 2;

    private static readonly Task<bool> CompletedTrue = System.Threading.Tasks.Task.FromResult(true);
    private static readonly Task<bool> CompletedFalse = System.Threading.Tasks.Task.FromResult(false);
}
