using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using TaskSystem.Diagnostics;
using TaskSystem.Storage;

namespace TaskSystem.Engine;

/// <summary>
/// Writes attempt outcomes in batches: whatever has finished since the last write goes in one store call.
/// Each write is fenced by node and claim in the store, so a late outcome can never overwrite a rescue or a stop.
/// A failed write is retried: an outcome is never dropped while the node runs.
/// </summary>
internal sealed class Completer
{
    private const int MaxBatch = 1000;
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    private readonly Channel<(TaskCompletion Completion, TaskExecution Execution)> _queue;
    private readonly ITaskStore _store;
    private readonly RunningTasks _running;
    private readonly WakeSignal _wake;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TaskMetrics _metrics;
    private Task _loop = Task.CompletedTask;

    public Completer(ITaskStore store, RunningTasks running, WakeSignal wake, TimeProvider time, ILogger logger, TaskMetrics metrics, int capacity)
    {
        _metrics = metrics;
        _store = store;
        _running = running;
        _wake = wake;
        _time = time;
        _logger = logger;

        // Bounded: when the store falls behind, finished attempts wait here and hold back new claims.
        _queue = Channel.CreateBounded<(TaskCompletion, TaskExecution)>(
            new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    }

    public void Start() => _loop = Task.Run(RunAsync);

    public async ValueTask SubmitAsync(TaskCompletion completion, TaskExecution execution)
    {
        try
        {
            await _queue.Writer.WriteAsync((completion, execution)).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            // Shut down already (an abandoned handler returned late): the task stays running in the store
            // and is recovered at the next start.
        }
    }

    /// <summary>Writes what is queued, then stops. Outcomes that cannot be written stay running in the store, to be recovered.</summary>
    public Task StopAsync()
    {
        _queue.Writer.TryComplete();
        return _loop;
    }

    private async Task RunAsync()
    {
        var batch = new List<(TaskCompletion Completion, TaskExecution Execution)>(MaxBatch);
        var completions = new List<TaskCompletion>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item))
            {
                batch.Add(item);
                completions.Add(item.Completion);
            }

            var applied = await WriteAsync(completions).ConfigureAwait(false);
            for (var i = 0; i < batch.Count; i++)
            {
                var (completion, execution) = batch[i];
                var written = applied is not null && applied[i];
                if (applied is not null && !written)
                {
                    Log.CompletionFenced(_logger, completion.Id, completion.Kind.ToString());
                }
                else if (written && completion is { Kind: CompletionKind.Retry, RunAt: { } runAt })
                {
                    _wake.WakeAt(runAt);
                }

                if (written)
                {
                    _metrics.Completed(execution.Task, completion.Kind);
                }

                _running.Remove(execution);
                execution.MarkFinalized(written);
                execution.Dispose();
            }

            batch.Clear();
            completions.Clear();
        }
    }

    /// <summary>Writes with retries; null only when shutting down with the store still failing.</summary>
    private async Task<IReadOnlyList<bool>?> WriteAsync(List<TaskCompletion> completions)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            try
            {
                return await _store.TasksCompleteAsync(new TasksCompleteParams(completions), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                if (_queue.Reader.Completion.IsCompleted || IsShuttingDown)
                {
                    Log.CompletionsAbandonedAtShutdown(_logger, completions.Count, exception);
                    return null;
                }

                Log.CompleteFailed(_logger, completions.Count, delay, exception);
                await Task.Delay(delay, _time).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            }
        }
    }

    /// <summary>Set once no more outcomes will be submitted: a failing store is then given up on.</summary>
    public bool IsShuttingDown { get; set; }
}
