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
/// ignores its cancellation for the grace period is abandoned and its slot freed.
/// </summary>
internal sealed class TaskExecutor(
    IServiceScopeFactory scopes,
    Completer completer,
    WorkerSlots slots,
    EngineSettings settings,
    TimeProvider time,
    ILogger<TaskExecutor> logger)
{
    public async Task RunAsync(TaskExecution execution)
    {
        var task = execution.Task;
        var started = time.GetTimestamp();
        var slotHeld = true;
        Log.TaskStarted(logger, task.Id, task.Type, task.Attempt);
        Outcome outcome;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var pending = Invoke(scope.ServiceProvider, execution);
            if (pending.IsCompleted)
            {
                outcome = Observe(pending, execution);
            }
            else
            {
                execution.Start(time, task.Timeout, settings.StopGracePeriod);
                var handlerTask = pending.AsTask();
                await Task.WhenAny(handlerTask, execution.GraceExpired).ConfigureAwait(false);
                if (handlerTask.IsCompleted)
                {
                    outcome = Observe(handlerTask, execution);
                }
                else
                {
                    Log.TaskAbandoned(logger, task.Id, task.Type, task.Attempt, execution.Reason.ToString(), settings.StopGracePeriod);
                    if (execution.Reason == StopReason.TimedOut && !execution.IsStopRequested)
                    {
                        // The attempt failed, but a retry now could run beside the abandoned handler:
                        // free the worker, and record the failure (and so the retry) only when the handler returns,
                        // unless a stop comes first. Heartbeats keep the task leased meanwhile.
                        slots.Release();
                        slotHeld = false;
                        await Task.WhenAny(handlerTask, execution.StopRequested, execution.ShutdownRequested).ConfigureAwait(false);
                    }

                    outcome = handlerTask.IsCompleted || execution.IsStopRequested || !execution.IsShutdownRequested
                        ? FromReason(execution, abandoned: !handlerTask.IsCompleted)
                        : Outcome.Release("interrupted by shutdown (the handler ignored cancellation and was abandoned)");
                }
            }
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // Resolving the handler failed (a missing dependency, say): an ordinary failed attempt.
            outcome = Outcome.Failure(Describe(exception));
        }

        var completion = ToCompletion(execution, outcome);
        Log.TaskFinished(logger, task.Id, task.Type, task.Attempt, time.GetElapsedTime(started).TotalMilliseconds, Describe(completion));
        // Free the slot first, then queue the outcome: its wake-up lets the dispatcher see both in one round.
        if (slotHeld)
        {
            slots.Release(wake: false);
        }

        completer.Submit(completion, execution);
    }

    private static ValueTask<JsonElement?> Invoke(IServiceProvider services, TaskExecution execution)
    {
        var task = execution.Task;
        try
        {
            var handler = HandlerRegistry.Resolve(services, task.Type);
            var context = new TaskContext(task.Id, task.Type, task.Queue, task.Attempt, task.MaxAttempts, task.PayloadJson, task.Node ?? "");
            return handler.HandleAsync(context, execution.Token);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            return ValueTask.FromException<JsonElement?>(exception);
        }
    }

    private static Outcome Observe(ValueTask<JsonElement?> pending, TaskExecution execution)
    {
        try
        {
            return Outcome.Success(pending.Result);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            return execution.Reason == StopReason.None ? Outcome.Failure(Describe(exception)) : FromReason(execution, abandoned: false);
        }
    }

    private static Outcome Observe(Task<JsonElement?> handlerTask, TaskExecution execution) =>
        Observe(new ValueTask<JsonElement?>(handlerTask), execution);

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
            OutcomeKind.Success => new TaskCompletion(task.Id, node, claim, CompletionKind.Succeeded, now,
                ResultJson: outcome.Result is { ValueKind: not JsonValueKind.Undefined } result ? result.GetRawText() : null),
            OutcomeKind.Failure when task.Attempt < task.MaxAttempts => new TaskCompletion(task.Id, node, claim, CompletionKind.Retry, now,
                Error: outcome.Error, RunAt: now + RetryBackoff.Delay(task.Attempt, settings.RetryBaseDelay, settings.RetryMaxDelay, Random.Shared)),
            OutcomeKind.Failure => new TaskCompletion(task.Id, node, claim, CompletionKind.Failed, now, Error: outcome.Error),
            OutcomeKind.Stopped => new TaskCompletion(task.Id, node, claim, CompletionKind.Cancelled, now, Error: outcome.Error),
            _ => new TaskCompletion(task.Id, node, claim, CompletionKind.Released, now, Error: outcome.Error),
        };
    }

    private static string Describe(Exception exception) =>
        exception is TaskFailedException ? exception.Message : $"{exception.GetType().Name}: {exception.Message}";

    private static string Describe(TaskCompletion completion) => completion.Kind switch
    {
        CompletionKind.Succeeded => "succeeded",
        CompletionKind.Retry => $"failed, retry at {completion.RunAt:O}: {completion.Error}",
        CompletionKind.Failed => $"failed: {completion.Error}",
        CompletionKind.Cancelled => $"cancelled: {completion.Error}",
        _ => $"released to the queue: {completion.Error}",
    };

    private enum OutcomeKind
    {
        Success,
        Failure,
        Stopped,
        Release,
    }

    private readonly record struct Outcome(OutcomeKind Kind, JsonElement? Result, string? Error)
    {
        public static Outcome Success(JsonElement? result) => new(OutcomeKind.Success, result, null);

        public static Outcome Failure(string error) => new(OutcomeKind.Failure, null, error);

        public static Outcome Stopped(string error) => new(OutcomeKind.Stopped, null, error);

        public static Outcome Release(string error) => new(OutcomeKind.Release, null, error);
    }
}
