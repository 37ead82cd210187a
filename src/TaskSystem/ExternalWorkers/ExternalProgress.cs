using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using TaskSystem.Engine;
using TaskSystem.Storage;

namespace TaskSystem.ExternalWorkers;

/// <summary>
/// Progress that external workers send in their heartbeats, coalesced per task as a handler's is (at most one store
/// write per task per second, the last report kept), each write fenced by the worker's lease. A task's reporter lives
/// from its first report to the worker's outcome, which writes the waiting report first, or until a write finds the
/// lease gone (rescued, stopped, finished).
/// </summary>
internal sealed class ExternalProgress(ITaskStore store, TimeProvider time, ILogger<ExternalProgress> logger)
{
    private readonly ConcurrentDictionary<long, TaskProgressReporter> _reporters = new();

    /// <summary>How many tasks have a reporter now (for tests: it must not grow with tasks that finished).</summary>
    public int Count => _reporters.Count;

    /// <summary>Records a report of a worker that holds the task under <paramref name="token"/> (the heartbeat just proved it).</summary>
    public ValueTask ReportAsync(long id, LeaseToken token, double percent, string? message)
    {
        var reporter = _reporters.AddOrUpdate(
            id,
            static (id, state) => state.Self.Create(id, state.Token),
            static (id, existing, state) => existing.ClaimId == state.Token.ClaimId && !existing.Lost ? existing : state.Self.Create(id, state.Token),
            (Self: this, Token: token));
        return reporter.ReportAsync(percent, TaskContext.Cut(message));
    }

    /// <summary>Writes the task's waiting report, if any, before the worker's outcome, and forgets the task.</summary>
    public Task FinishAsync(long id) => _reporters.TryRemove(id, out var reporter) ? reporter.FlushAsync() : Task.CompletedTask;

    /// <summary>Forgets tasks whose worker lost them: their reports would be fenced off anyway.</summary>
    public void Forget(long id)
    {
        if (_reporters.TryRemove(id, out var reporter))
        {
            _ = reporter.FlushAsync();
        }
    }

    private TaskProgressReporter Create(long id, LeaseToken token) =>
        new(store.TaskProgressSetAsync, id, token.Holder, token.ClaimId, time, logger);
}
