using Microsoft.Extensions.Logging;
using TaskSystem.Diagnostics;
using TaskSystem.Handlers;
using TaskSystem.Storage;

namespace TaskSystem.Engine;

/// <summary>
/// The one loop that takes work: claims up to the free worker slots in one store call, starts an attempt for each,
/// and sleeps until woken (a new task, a freed slot, a retry coming due) with a slow poll as the safety net.
/// </summary>
internal sealed class Dispatcher(
    ITaskStore store,
    HandlerRegistry handlers,
    RunningTasks running,
    WorkerSlots slots,
    WakeSignal wake,
    TaskExecutor executor,
    EngineSettings settings,
    TimeProvider time,
    ILogger<Dispatcher> logger) : IDisposable
{
    private static readonly TimeSpan MaxErrorDelay = TimeSpan.FromSeconds(5);
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;

    public void Start() => _loop = Task.Run(RunAsync);

    /// <summary>True while the claim loop runs: started, not stopped, not crashed. Cheap enough for every health probe.</summary>
    public bool IsRunning => !Volatile.Read(ref _loop).IsCompleted;

    /// <summary>Stops claiming; attempts already started go on.</summary>
    public async Task StopAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
    }

    public void Dispose() => _stopping.Dispose();

    private async Task RunAsync()
    {
        var token = _stopping.Token;
        var errorDelay = TimeSpan.FromMilliseconds(50);
        while (!token.IsCancellationRequested)
        {
            var free = slots.Free;
            var claimedAll = false;
            if (free > 0 && handlers.Types.Count > 0)
            {
                try
                {
                    var now = time.GetUtcNow();
                    var claimed = await store.TasksClaimAsync(
                        new TasksClaimParams(settings.Node, NewClaimId(), free, handlers.Types, now, now + settings.LeaseDuration),
                        CancellationToken.None).ConfigureAwait(false);
                    Launch(claimed);
                    claimedAll = claimed.Count == free;
                    errorDelay = TimeSpan.FromMilliseconds(50);
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    Log.ClaimFailed(logger, errorDelay, exception);
                    await DelayAsync(errorDelay, token).ConfigureAwait(false);
                    errorDelay = TimeSpan.FromTicks(Math.Min(errorDelay.Ticks * 2, MaxErrorDelay.Ticks));
                    continue;
                }
            }

            if (claimedAll)
            {
                // Every free slot was filled and more may be waiting: claim again as soon as a slot frees.
                continue;
            }

            await WaitAsync(token).ConfigureAwait(false);
        }
    }

    private void Launch(IReadOnlyList<TaskRecord> claimed)
    {
        if (claimed.Count == 0)
        {
            return;
        }

        slots.Take(claimed.Count);
        foreach (var task in claimed)
        {
            var execution = new TaskExecution(task);
            running.Add(execution);
            _ = Task.Run(() => executor.RunAsync(execution));
        }
    }

    private async Task WaitAsync(CancellationToken token)
    {
        try
        {
            await wake.WaitAsync(settings.PollInterval, time, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task DelayAsync(TimeSpan delay, CancellationToken token)
    {
        try
        {
            await Task.Delay(delay, time, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>A fencing token: random, so that no two claims, on any node or in any run, share one.</summary>
    private static long NewClaimId() => Random.Shared.NextInt64(1, long.MaxValue);
}
