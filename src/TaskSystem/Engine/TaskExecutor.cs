using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TaskSystem.Diagnostics;
using TaskSystem.Handlers;
using TaskSystem.Storage;

namespace TaskSystem.Engine;

/// <summary>
/// Runs one attempt: resolves the handler in a fresh scope, enforces the timeout, turns what happened into an
/// outcome (success, retry with backoff, failure, cancelled, released) and hands it to the completer.
/// A handler that throws or hangs never takes the worker down: exceptions become outcomes, and a handler that
/// ignores its cancellation for the grace period is abandoned (its slot freed, its outcome handed over) by a timer,
/// even if it blocks its thread.
/// </summary>
internal sealed class TaskExecutor(
    IServiceScopeFactory scopes,
    HandlerRegistry handlers,
    PayloadJson json,
    Completer completer,
    WorkerSlots slots,
    QueueLimits limits,
    RunningTasks running,
    EngineSettings settings,
    TaskMetrics metrics,
    ITaskStore store,
    TasksClaimedAhead ahead,
    TimeProvider time,
    ILogger<TaskExecutor> logger)
{
    /// <summary>Runs an attempt that holds a worker slot, on the thread pool.</summary>
    public void Begin(TaskExecution execution)
    {
        limits.Took(execution.Task.Queue);

        // On the thread pool, not inline: a handler's synchronous part must never hold up its caller.
        ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Executor.RunAsync(state.Execution), (Executor: this, Execution: execution), preferLocal: true);
    }

    /// <summary>
    /// Ends an attempt claimed ahead that no worker ran: stopped (cancelled), fenced (back to the queue, not counted),
    /// or released to the queue (the node stops, or no worker freed up in time).
    /// </summary>
    public void ResolveUnstarted(TaskExecution execution, string? releaseReason = null)
    {
        var outcome = execution.Reason == StopReason.None
            ? Outcome.Release(releaseReason ?? "released before it started")
            : FromReason(execution, abandoned: false);
        if (!execution.TrySubmitOutcome())
        {
            return;
        }

        var completion = ToCompletion(execution, outcome);
        execution.SubmittedCompletion = completion;
        if (completion.Kind == CompletionKind.Cancelled)
        {
            Log.TaskFinished(logger, execution.Task.Id, execution.Task.Type, execution.Task.Attempt, 0, Describe(completion));
        }

        completer.Submit(completion, execution);
    }

    public async Task RunAsync(TaskExecution execution)
    {
        var task = execution.Task;
        execution.StartedTimestamp = time.GetTimestamp();
        using var activity = TaskTracing.StartRun(task);
        metrics.Started(task);
        Log.TaskStarted(logger, task.Id, task.Type, task.Attempt);
        execution.Start(time, task.Timeout, settings.StopGracePeriod, OnGraceExpired);
        var progress = new TaskProgressReporter(store.TaskProgressSetAsync, task.Id, task.Node ?? "", task.ClaimId ?? 0, time, logger);
        var outcome = await RunHandlerAsync(execution, progress).ConfigureAwait(false);

        // The last report is written while the attempt still holds the task: after the outcome, the fence refuses it.
        await progress.FlushAsync().ConfigureAwait(false);
        execution.MarkHandlerReturned();
        if (execution.WasAbandoned)
        {
            // It returned after it was given up on: whatever it returned, the attempt timed out (or was stopped).
            outcome = FromReason(execution, abandoned: true);
        }
        else if (execution.IsStopRequested && outcome.Kind is OutcomeKind.Success or OutcomeKind.Failure)
        {
            // Somebody asked for the stop before the handler returned. A handler that ends its loop on cancellation
            // and returns normally looks exactly like one that finished just in time, so the stop wins either way
            // (as the store's completion does for a stop it recorded first); what the handler produced is kept.
            outcome = outcome.Kind == OutcomeKind.Success
                ? Outcome.Stopped(StopErrors.ReturnedAfterStop, outcome.ResultJson)
                : Outcome.Stopped($"stopped by request; the handler then failed: {outcome.Error}");
        }

        running.ForgetAbandoned(execution);
        Submit(execution, outcome);

        // Ends when the handler returns, even if the attempt was resolved earlier (abandoned): the span shows how long it really ran.
        TaskTracing.Finished(activity, execution.SubmittedCompletion!, outcome.Exception);
    }

    /// <summary>Calls the handler and reads its result; never throws.</summary>
    private async Task<Outcome> RunHandlerAsync(TaskExecution execution, TaskProgressReporter progress)
    {
        var task = execution.Task;
        var scope = scopes.CreateAsyncScope();
        try
        {
            var handler = HandlerRegistry.Resolve(scope.ServiceProvider, task.Type);
            var context = new TaskContext(task.Id, task.Type, task.Queue, task.Attempt, task.MaxAttempts, task.PayloadJson, task.Node ?? "", scope.ServiceProvider, json)
            {
                ProgressSink = progress,
                ParentSource = cancellationToken => ParentResultsAsync(task.Id, cancellationToken),
            };
            var result = await handler.HandleAsync(context, execution.Token).ConfigureAwait(false);

            // Read the result here: a JsonElement whose document the handler already disposed throws on use.
            var resultJson = result is { ValueKind: not JsonValueKind.Undefined } element ? element.GetRawText() : null;
            return resultJson is not null && JsonLimits.Check(resultJson, settings.MaxPayloadBytes, settings.MaxJsonDepth) is { } tooBig
                ? Outcome.Failure($"the handler's result was refused: {tooBig.Message}")
                : Outcome.Success(resultJson);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            return execution.Reason == StopReason.None ? Outcome.Failure(exception) : FromReason(execution, abandoned: false);
        }
        finally
        {
            try
            {
                await scope.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                // The attempt's outcome stands; a service that fails to dispose is the service's problem.
                Log.ScopeDisposeFailed(logger, task.Id, exception);
            }
        }
    }

    /// <summary>A continuation's parents as its handler sees them (<see cref="TaskContext.ParentResultsAsync"/>).</summary>
    private async Task<IReadOnlyList<TaskParentResult>> ParentResultsAsync(long id, CancellationToken cancellationToken)
    {
        var parents = await store.TaskParentsListAsync(id, cancellationToken).ConfigureAwait(false);
        return [.. parents.Select(p => new TaskParentResult(p.Id, p.Type, p.State, p.ResultJson is null ? null : JsonLimits.Parse(p.ResultJson), p.Error))];
    }

    /// <summary>
    /// The token was cancelled a grace period ago and the handler has not returned: free its worker now. A stopped or
    /// shut-down attempt is resolved at once. A timed-out or interrupted one keeps its task until the handler returns,
    /// so that its next attempt cannot run beside it, unless a stop or a shutdown comes first.
    /// </summary>
    private void OnGraceExpired(TaskExecution execution)
    {
        try
        {
            if (execution.HandlerReturned || execution.IsOutcomeSubmitted)
            {
                return;
            }

            var task = execution.Task;
            Log.TaskAbandoned(logger, task.Id, task.Type, task.Attempt, execution.Reason.ToString(), settings.StopGracePeriod);
            execution.MarkAbandoned();
            running.MarkAbandoned(execution);
            if (execution.Reason is (StopReason.TimedOut or StopReason.Interrupted) && !execution.IsStopRequested && !execution.IsShutdownRequested)
            {
                if (execution.TryReleaseSlot())
                {
                    limits.Released(execution.Task.Queue);
                    slots.Release();
                }

                _ = ResolveAbandonedAsync(execution);
                return;
            }

            Submit(execution, FromReason(execution, abandoned: true));
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            Log.MaintenanceFailed(logger, "abandoning a task", TimeSpan.Zero, exception);
        }
    }

    private async Task ResolveAbandonedAsync(TaskExecution execution)
    {
        await Task.WhenAny(execution.StopRequested, execution.ShutdownRequested).ConfigureAwait(false);
        Submit(execution, FromReason(execution, abandoned: true));
    }

    /// <summary>Hands the outcome over and frees the worker, once, whoever gets here first.</summary>
    private void Submit(TaskExecution execution, Outcome outcome)
    {
        if (!execution.TrySubmitOutcome())
        {
            return;
        }

        var task = execution.Task;
        var completion = ToCompletion(execution, outcome);
        execution.SubmittedCompletion = completion;
        var elapsed = time.GetElapsedTime(execution.StartedTimestamp);
        LogFinished(task, completion, elapsed, outcome.Exception);
        metrics.AttemptFinished(task, completion.Kind, elapsed);

        // Free the slot first, then queue the outcome: its wake-up lets the dispatcher see both in one round. A task
        // claimed ahead takes the slot over at once.
        if (execution.TryReleaseSlot())
        {
            limits.Released(task.Queue);
            if (ahead.TryBegin(out var next))
            {
                Begin(next);
            }
            else
            {
                slots.Release(wake: false);
            }
        }

        completer.Submit(completion, execution);
    }

    private static Outcome FromReason(TaskExecution execution, bool abandoned)
    {
        var suffix = abandoned ? " (the handler ignored cancellation and was abandoned)" : "";
        if (execution.IsStopRequested)
        {
            return Outcome.Stopped("stopped by request" + suffix);
        }

        return execution.Reason switch
        {
            StopReason.TimedOut => Outcome.Failure($"timed out after {execution.Task.Timeout}" + suffix),
            StopReason.ShuttingDown => Outcome.Release("interrupted by shutdown" + suffix),
            StopReason.Interrupted => Outcome.Interrupted(
                $"interrupted: node {execution.Task.Node} could not renew its lease and stopped the attempt before the lease ran out" + suffix),
            _ => Outcome.Stopped("stopped by request" + suffix),
        };
    }

    private TaskCompletion ToCompletion(TaskExecution execution, Outcome outcome)
    {
        var task = execution.Task;
        var now = time.GetUtcNow();
        var node = task.Node ?? "";
        var claim = task.ClaimId ?? 0;
        return outcome.Kind switch
        {
            OutcomeKind.Success => new TaskCompletion(task.Id, node, claim, CompletionKind.Succeeded, now, ResultJson: outcome.ResultJson),
            OutcomeKind.Failure when !outcome.NoRetry && task.Attempt < task.MaxAttempts => new TaskCompletion(task.Id, node, claim, CompletionKind.Retry, now,
                Error: outcome.Error, RunAt: now + RetryDelay(task, outcome.RetryAfter), StackTrace: StackTraceOf(outcome.Exception)),
            OutcomeKind.Failure => new TaskCompletion(task.Id, node, claim, CompletionKind.Failed, now, Error: outcome.Error, StackTrace: StackTraceOf(outcome.Exception)),
            OutcomeKind.Stopped => new TaskCompletion(task.Id, node, claim, CompletionKind.Cancelled, now, ResultJson: outcome.ResultJson, Error: outcome.Error),
            OutcomeKind.Interrupted => new TaskCompletion(task.Id, node, claim, CompletionKind.Interrupted, now, Error: outcome.Error),
            _ => new TaskCompletion(task.Id, node, claim, CompletionKind.Released, now, Error: outcome.Error),
        };
    }

    /// <summary>
    /// The wait before the next attempt: the one the handler asked for (bounded by the maximum), else the backoff of
    /// the type's own retry delays when it has them, else the node's.
    /// </summary>
    private TimeSpan RetryDelay(TaskRecord task, TimeSpan? requested)
    {
        var defaults = handlers.DefaultsOf(task.Type);
        var baseDelay = defaults?.RetryBaseDelay ?? settings.RetryBaseDelay;
        var maxDelay = defaults?.RetryMaxDelay ?? settings.RetryMaxDelay;
        return RetryBackoff.Delay(task.Attempt, requested, baseDelay, maxDelay < baseDelay ? baseDelay : maxDelay, Random.Shared);
    }

    /// <summary>Retries at Warning and the final failure at Error, both with the exception; the rest at Information.</summary>
    private void LogFinished(TaskRecord task, TaskCompletion completion, TimeSpan elapsed, Exception? exception)
    {
        switch (completion.Kind)
        {
            case CompletionKind.Retry:
                Log.TaskAttemptFailed(logger, task.Id, task.Type, task.Attempt, task.MaxAttempts, elapsed.TotalMilliseconds, completion.RunAt, completion.Error, exception);
                break;
            case CompletionKind.Failed:
                Log.TaskFailed(logger, task.Id, task.Type, task.Attempt, elapsed.TotalMilliseconds, completion.Error, exception);
                break;
            default:
                Log.TaskFinished(logger, task.Id, task.Type, task.Attempt, elapsed.TotalMilliseconds, Describe(completion));
                break;
        }
    }

    private static string? StackTraceOf(Exception? exception) => exception is null ? null : FailureText.Bounded(exception.ToString(), TaskAttemptError.MaxStackTraceBytes);

    private static string Describe(Exception exception) =>
        exception is TaskFailedException ? exception.Message : $"{exception.GetType().Name}: {exception.Message}";

    private static string Describe(TaskCompletion completion) => completion.Kind switch
    {
        CompletionKind.Succeeded => "succeeded",
        CompletionKind.Retry => $"failed, retry at {completion.RunAt:O}: {completion.Error}",
        CompletionKind.Failed => $"failed: {completion.Error}",
        CompletionKind.Cancelled => $"cancelled: {completion.Error}",
        CompletionKind.Interrupted => $"back to the queue, attempt not counted: {completion.Error}",
        _ => $"released to the queue: {completion.Error}",
    };

    private enum OutcomeKind
    {
        Success,
        Failure,
        Stopped,
        Release,
        Interrupted,
    }

    /// <summary>
    /// What an attempt came to; <see cref="Exception"/> is the handler's, when it threw one that failed the attempt. A
    /// failure may carry the handler's own retry decision: no retry at all (<see cref="TaskFailedException.Retry"/>
    /// false), or its delay before the next attempt (<see cref="TaskFailedException.RetryAfter"/>).
    /// </summary>
    private readonly record struct Outcome(
        OutcomeKind Kind, string? ResultJson, string? Error, Exception? Exception = null, bool NoRetry = false, TimeSpan? RetryAfter = null)
    {
        public static Outcome Success(string? resultJson) => new(OutcomeKind.Success, resultJson, null);

        public static Outcome Failure(string error, Exception? exception = null) => new(OutcomeKind.Failure, null, error, exception);

        public static Outcome Failure(Exception exception) => exception is TaskFailedException failed
            ? new(OutcomeKind.Failure, null, failed.Message, exception, NoRetry: !failed.Retry, RetryAfter: failed.RetryAfter)
            : Failure(Describe(exception), exception);

        public static Outcome Stopped(string error, string? resultJson = null) => new(OutcomeKind.Stopped, resultJson, error);

        public static Outcome Release(string error) => new(OutcomeKind.Release, null, error);

        public static Outcome Interrupted(string error) => new(OutcomeKind.Interrupted, null, error);
    }
}
