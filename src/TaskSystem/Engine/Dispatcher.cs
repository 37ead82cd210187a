using Microsoft.Extensions.Logging;
using TaskSystem.Diagnostics;
using TaskSystem.Handlers;
using TaskSystem.Storage;

namespace TaskSystem.Engine;

/// <summary>
/// The one loop that moves work between the store and the workers. Each round it writes the outcomes that finished
/// since the last round and claims up to the free worker slots, both at once (one SQLite transaction; two concurrent
/// round trips elsewhere), then starts an attempt per claimed task. It sleeps until woken (a new task, a finished
/// attempt, a retry coming due), with a slow poll as the safety net.
/// </summary>
internal sealed class Dispatcher(
    ITaskStore store,
    HandlerRegistry handlers,
    RunningTasks running,
    WorkerSlots slots,
    WakeSignal wake,
    Completer completer,
    TaskExecutor executor,
    TasksClaimedAhead ahead,
    TaskMetrics metrics,
    QueueLimits limits,
    EngineSettings settings,
    TimeProvider time,
    ILogger<Dispatcher> logger,
    WriteHealth writeHealth) : IDisposable
{
    private static readonly TimeSpan MinErrorDelay = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxErrorDelay = TimeSpan.FromSeconds(5);
    private const string ReleasedAtStop = "claimed ahead; the node stopped claiming before a worker of it took the task";
    private static readonly string ReleasedAfterHold =
        $"claimed ahead; no worker of the node freed up within {TasksClaimedAhead.MaxHold.TotalMilliseconds} ms";
    private readonly CancellationTokenSource _claiming = new();
    private readonly CancellationTokenSource _exiting = new();
    private readonly TaskCompletionSource _claimsStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _loop = Task.CompletedTask;

    public void Start() => _loop = Task.Run(RunAsync);

    /// <summary>True while the claim loop runs: started, not stopped, not crashed. Cheap enough for every health probe.</summary>
    public bool IsRunning => !Volatile.Read(ref _loop).IsCompleted;

    /// <summary>
    /// Stops claiming, and returns once no claim is in flight: every task claimed so far is then registered as
    /// running, so the caller's view of what runs is complete. Outcomes go on being written.
    /// </summary>
    public async Task StopClaimingAsync()
    {
        await _claiming.CancelAsync().ConfigureAwait(false);
        if (_loop.IsCompleted)
        {
            return;
        }

        wake.Set();
        await _claimsStopped.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Ends the loop: writes the outcomes still to come while attempts finish (bounded by the grace period and by
    /// <paramref name="cancellationToken"/>), one attempt each, then returns.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _claiming.CancelAsync().ConfigureAwait(false);
        _stopToken = cancellationToken;
        await _exiting.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
    }

    private CancellationToken _stopToken;

    public void Dispose()
    {
        _claiming.Dispose();
        _exiting.Dispose();
    }

    private async Task RunAsync()
    {
        var errorDelay = MinErrorDelay;
        while (!_exiting.IsCancellationRequested)
        {
            // Checked before claiming: when it is seen, the previous round's claim has returned and been launched.
            var claiming = !_claiming.IsCancellationRequested;
            if (!claiming)
            {
                _claimsStopped.TrySetResult();
                ReleaseAhead(ahead.Close(), ReleasedAtStop);
            }
            else
            {
                ReleaseAhead(ahead.TakeExpired(), ReleasedAfterHold);
                BeginAhead();
            }

            var outcomes = completer.Take();
            var write = outcomes.Count > 0 ? completer.WriteAsync(outcomes, finalAttempt: false) : null;

            // While outcomes pile up unwritten (a failing store), claim nothing more. With per-queue limits, a claim
            // is never made ahead of a free worker: a queue's room is counted in started attempts.
            var mayClaim = claiming && completer.PendingCount <= settings.Concurrency * 4;
            var wanted = !mayClaim ? 0 : slots.Free + (limits.IsPlain ? ahead.Wanted : 0);
            var claim = wanted > 0 && handlers.Types.Count > 0 ? ClaimAsync(wanted) : null;

            var healthy = write is null || await write.ConfigureAwait(false);
            var claimedAll = false;
            if (claim is not null)
            {
                var claimed = await claim.ConfigureAwait(false);
                healthy &= claimed is not null;
                claimedAll = claimed?.Count == wanted;
            }

            if (ahead.NextExpiry() is { } expiry)
            {
                wake.WakeAt(expiry);
            }

            if (!healthy)
            {
                await DelayAsync(errorDelay).ConfigureAwait(false);
                errorDelay = TimeSpan.FromTicks(Math.Min(errorDelay.Ticks * 2, MaxErrorDelay.Ticks));
                continue;
            }

            errorDelay = MinErrorDelay;
            if (!claimedAll && completer.PendingCount == 0)
            {
                await WaitAsync().ConfigureAwait(false);
            }
        }

        _claimsStopped.TrySetResult();
        await DrainAsync().ConfigureAwait(false);
    }

    /// <summary>Writes outcomes until no attempt runs, for at most the grace period: each is given one try.</summary>
    private async Task DrainAsync()
    {
        var since = time.GetTimestamp();
        while (true)
        {
            var last = completer.Take();
            if (last.Count > 0)
            {
                await completer.WriteAsync(last, finalAttempt: true).ConfigureAwait(false);
                continue;
            }

            if (running.Count == 0 || time.GetElapsedTime(since) > settings.StopGracePeriod || _stopToken.IsCancellationRequested)
            {
                // What is left stays running in the store and is recovered at the next start.
                return;
            }

            try
            {
                await wake.WaitAsync(TimeSpan.FromMilliseconds(100), time, _stopToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Claims and starts attempts (or holds them for workers about to free up); null when the claim failed.</summary>
    private async Task<IReadOnlyList<TaskRecord>?> ClaimAsync(int free)
    {
        try
        {
            if (limits.IsPlain)
            {
                var finishedBefore = completer.SubmittedCount;
                var sent = time.GetTimestamp();
                var claimed = await ClaimOnceAsync(free, queues: null, excluded: null).ConfigureAwait(false);
                ahead.ObserveClaim(finishedBefore, completer.SubmittedCount, sent, time.GetTimestamp());
                Launch(claimed);
                return claimed;
            }

            return await ClaimByQueueAsync(free).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            Log.ClaimFailed(logger, exception);
            writeHealth.Failed(exception);
            return null;
        }
    }

    /// <summary>
    /// Claims each limited queue on its own, never more than its free room here, then the other served queues together
    /// with what is left of the free slots. Each claim is one atomic statement; a limited queue's room only shrinks
    /// between them (attempts start here, and only this loop starts them).
    /// </summary>
    private async Task<IReadOnlyList<TaskRecord>> ClaimByQueueAsync(int free)
    {
        var all = new List<TaskRecord>();
        foreach (var queue in limits.Limited)
        {
            var room = Math.Min(free - all.Count, limits.FreeIn(queue));
            if (room > 0)
            {
                var claimed = await ClaimOnceAsync(room, queues: [queue], excluded: null).ConfigureAwait(false);
                Launch(claimed);
                all.AddRange(claimed);
            }
        }

        var left = free - all.Count;
        if (left > 0 && (limits.ServesAll || limits.Unlimited.Count > 0))
        {
            var claimed = limits.ServesAll
                ? await ClaimOnceAsync(left, queues: null, excluded: limits.ExcludedFromOthers).ConfigureAwait(false)
                : await ClaimOnceAsync(left, queues: limits.Unlimited, excluded: null).ConfigureAwait(false);
            Launch(claimed);
            all.AddRange(claimed);
        }

        return all;
    }

    private Task<IReadOnlyList<TaskRecord>> ClaimOnceAsync(int limit, IReadOnlyList<string>? queues, IReadOnlyList<string>? excluded)
    {
        var now = time.GetUtcNow();
        return store.TasksClaimAsync(
            new TasksClaimParams(settings.Node, NewClaimId(), limit, handlers.Types, now, now + settings.LeaseDuration) { Queues = queues, ExcludedQueues = excluded },
            CancellationToken.None);
    }

    /// <summary>
    /// Starts claimed tasks in the free worker slots, those claimed ahead first (they are older); holds the rest for
    /// the next workers to free up. Each is registered as running before it starts or waits.
    /// </summary>
    private void Launch(IReadOnlyList<TaskRecord> claimed)
    {
        if (claimed.Count == 0)
        {
            return;
        }

        BeginAhead();
        foreach (var task in claimed)
        {
            if (slots.TryTakeOne())
            {
                var execution = new TaskExecution(task);
                running.Add(execution);
                executor.Begin(execution);
            }
            else
            {
                // Registered first: a worker may begin it as soon as it is added, and finish before this returns.
                var execution = TaskExecution.ClaimedAhead(task);
                running.Add(execution);
                ahead.Add(execution, _resolveUnstarted);
            }
        }
    }

    private readonly Action<TaskExecution> _resolveUnstarted = execution => executor.ResolveUnstarted(execution);

    /// <summary>Starts tasks claimed ahead in worker slots freed otherwise than by a finishing worker's hand-over.</summary>
    private void BeginAhead()
    {
        while (ahead.Count > 0 && slots.TryTakeOne())
        {
            if (!ahead.TryBegin(out var execution))
            {
                slots.Release(wake: false);
                return;
            }

            executor.Begin(execution);
        }
    }

    private void ReleaseAhead(List<TaskExecution>? unstarted, string reason)
    {
        metrics.ReleasedAhead(unstarted?.Count ?? 0);
        foreach (var execution in unstarted ?? [])
        {
            executor.ResolveUnstarted(execution, reason);
        }
    }

    private async Task WaitAsync()
    {
        try
        {
            await wake.WaitAsync(settings.PollInterval, time, _exiting.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_exiting.IsCancellationRequested)
        {
            // Exiting.
        }
    }

    private async Task DelayAsync(TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, time, _exiting.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_exiting.IsCancellationRequested)
        {
            // Exiting.
        }
    }

    /// <summary>A fencing token: random, so that no two claims, on any node or in any run, share one.</summary>
    private static long NewClaimId() => Random.Shared.NextInt64(1, long.MaxValue);
}
