using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using TaskSystem.Diagnostics;
using TaskSystem.Storage;

namespace TaskSystem.Engine;

/// <summary>
/// Collects attempt outcomes and writes them in batches: the dispatcher takes whatever finished since its last round
/// and writes it beside its next claim, so one round trip (one SQLite transaction) both records outcomes and refills
/// the freed slots. Each write is fenced by node and claim in the store, so a late outcome can never overwrite a
/// rescue or a stop. A failed write is put back and tried again: an outcome is never dropped while the node runs.
/// </summary>
internal sealed class Completer(
    ITaskStore store, RunningTasks running, WakeSignal wake, TaskMetrics metrics, TaskWaiters waiters, ILogger<Completer> logger, WriteHealth writeHealth)
{
    private const int MaxBatch = 1000;
    private readonly ConcurrentQueue<(TaskCompletion Completion, TaskExecution Execution)> _pending = new();

    private long _submitted;

    public int PendingCount => _pending.Count;

    /// <summary>How many outcomes were ever submitted: the dispatcher counts those that arrive during a claim.</summary>
    public long SubmittedCount => Interlocked.Read(ref _submitted);

    /// <summary>Queues an outcome and wakes the dispatcher to write it.</summary>
    public void Submit(TaskCompletion completion, TaskExecution execution)
    {
        _pending.Enqueue((completion, execution));
        Interlocked.Increment(ref _submitted);
        wake.Set();
    }

    /// <summary>Takes up to a batch of queued outcomes.</summary>
    public List<(TaskCompletion Completion, TaskExecution Execution)> Take()
    {
        var batch = new List<(TaskCompletion, TaskExecution)>(Math.Min(_pending.Count, MaxBatch));
        while (batch.Count < MaxBatch && _pending.TryDequeue(out var item))
        {
            batch.Add(item);
        }

        return batch;
    }

    /// <summary>Writes a batch; on failure puts it back for the next round and returns false.</summary>
    public async Task<bool> WriteAsync(List<(TaskCompletion Completion, TaskExecution Execution)> batch, bool finalAttempt)
    {
        IReadOnlyList<bool> applied;
        try
        {
            applied = await store.TasksCompleteAsync(new TasksCompleteParams([.. batch.Select(b => b.Completion)]), CancellationToken.None)
                .ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            writeHealth.Failed(exception);
            if (finalAttempt)
            {
                // Shutting down with the store failing: the tasks stay running in the store and are recovered at the next start.
                Log.CompletionsAbandonedAtShutdown(logger, batch.Count, exception);
                Finish(batch, applied: null);
                return false;
            }

            Log.CompleteFailed(logger, batch.Count, exception);
            foreach (var item in batch)
            {
                _pending.Enqueue(item);
            }

            return false;
        }

        Finish(batch, applied);
        return true;
    }

    private void Finish(List<(TaskCompletion Completion, TaskExecution Execution)> batch, IReadOnlyList<bool>? applied)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            var (completion, execution) = batch[i];
            var written = applied is not null && applied[i];
            if (applied is not null && !written)
            {
                Log.CompletionFenced(logger, completion.Id, completion.Kind.ToString());
            }
            else if (written && completion is { Kind: CompletionKind.Retry, RunAt: { } runAt })
            {
                wake.WakeAt(runAt);
            }
            else if (written && completion.Kind is CompletionKind.Interrupted or CompletionKind.Released)
            {
                // Back in the queue, to run again now: the claim of this round may have run before this write.
                wake.Set();
            }

            if (written)
            {
                metrics.Completed(execution.Task, completion.Kind);
                waiters.Signal(completion.Id);
            }

            running.Remove(execution);
            execution.MarkFinalized(written);
            execution.Dispose();
        }
    }
}
