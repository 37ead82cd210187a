using Microsoft.Extensions.Logging;
using TaskSystem.Configuration;
using TaskSystem.Diagnostics;
using TaskSystem.Engine;
using TaskSystem.Storage;

namespace TaskSystem.ExternalWorkers;

/// <summary>
/// The engine's side of the external worker protocol: a worker in any process claims tasks (a long poll woken by the
/// same signals that wake the dispatcher), holds each under a lease it renews by heartbeat (which carries a stop
/// back), and reports the outcome. A worker holds its tasks as a node does: its lease token is the claim every
/// transition is fenced by, so a report under a lease that was lost (stopped, expired and taken back, finished) is
/// refused and never overwrites what happened since. Every answer that changes state is durable before it returns.
/// </summary>
internal sealed class ExternalTasks(
    ITaskStore store,
    ExternalTypes types,
    WorkerSignals signals,
    EngineSettings settings,
    ExternalProgress progress,
    TimeProvider time,
    ILogger<ExternalTasks> logger)
{
    /// <summary>
    /// Claims up to <see cref="WorkerClaim.Max"/> tasks; when none is ready, waits for one for up to
    /// <see cref="WorkerClaim.Wait"/>, re-claiming on every wake-up (and every poll interval, in case a signal was lost).
    /// Returns an empty list when the wait ends without a task or <paramref name="cancellationToken"/> ends it: tasks
    /// claimed just as the caller left are put back in the queue, their attempt not counted.
    /// </summary>
    /// <exception cref="TaskValidationException">A field is out of bounds; the message says which and why.</exception>
    public async Task<IReadOnlyList<ClaimedTask>> ClaimAsync(WorkerClaim claim, CancellationToken cancellationToken)
    {
        var (max, wait, lease) = Validate(claim);
        var holder = ExternalHolder.For(claim.Worker);
        var queues = claim.Queues is { Count: > 0 } named ? named : null;
        var started = time.GetTimestamp();
        while (true)
        {
            var ready = signals.NextTasksReady();
            var now = time.GetUtcNow();
            var claimId = LeaseToken.NewClaimId();
            var claimed = await store.TasksClaimExternalAsync(
                new TasksClaimExternalParams(holder, claimId, max, claim.Types, queues, now, now + lease), CancellationToken.None).ConfigureAwait(false);
            if (claimed.Count > 0)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    await ReleaseAsync(claimed, claim.Worker).ConfigureAwait(false);
                    return [];
                }

                var token = new LeaseToken(claimId, claim.Worker);
                foreach (var task in claimed)
                {
                    Log.TaskClaimedByWorker(logger, task.Id, task.Type, task.Attempt, claim.Worker);
                }

                return [.. claimed.Select(task => new ClaimedTask(task, token, task.LeaseExpiresAt ?? now + lease))];
            }

            var remaining = wait - time.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero || cancellationToken.IsCancellationRequested)
            {
                return [];
            }

            var poll = remaining < settings.PollInterval ? remaining : settings.PollInterval;
            await signals.WaitTasksReadyAsync(ready, poll, time, cancellationToken).ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested)
            {
                return [];
            }
        }
    }

    /// <summary>
    /// Extends the lease of a task the worker holds by <paramref name="lease"/> (never past the attempt's timeout) and
    /// says whether a stop was requested. With <paramref name="wait"/>, it then waits up to that long for a stop
    /// request and answers as soon as one comes, so that the stop reaches the worker at once.
    /// </summary>
    /// <exception cref="TaskValidationException">The token or a bound is invalid.</exception>
    public async Task<HeartbeatAnswer> HeartbeatAsync(
        long id, string? leaseToken, TimeSpan? lease, TimeSpan? wait, CancellationToken cancellationToken, WorkerProgress? reported = null)
    {
        var token = ParseToken(leaseToken);
        var leaseFor = CheckLease(lease);
        var waitFor = wait ?? TimeSpan.Zero;
        if (waitFor < TimeSpan.Zero || waitFor > WorkerLimits.MaxWait || waitFor * 2 > leaseFor)
        {
            throw new TaskValidationException("waitSeconds",
                $"waitSeconds must be between 0 and {WorkerLimits.MaxWait.TotalSeconds}, and at most half of leaseSeconds ({leaseFor.TotalSeconds}), " +
                $"so that the next heartbeat has time to renew the lease (got {waitFor.TotalSeconds}).");
        }

        // Watch before reading the flag: a stop written after the read still ends the wait.
        var stop = waitFor > TimeSpan.Zero ? signals.Stops.Register(id) : null;
        try
        {
            var extended = await store.TaskLeaseExtendAsync(
                new TaskLeaseExtendParams(id, token.Holder, token.ClaimId, time.GetUtcNow() + leaseFor), CancellationToken.None).ConfigureAwait(false);
            if (extended is null)
            {
                progress.Forget(id);
                return new HeartbeatAnswer(null, await RefuseAsync(id, token, reported: null, cancellationToken).ConfigureAwait(false));
            }

            if (reported is not null)
            {
                // Coalesced and fenced by the lease; never delays the answer beyond its own write.
                await progress.ReportAsync(id, token, reported.Percent, reported.Message).ConfigureAwait(false);
            }

            if (stop is null || extended.StopRequested || !await WaitAsync(stop.Task, waitFor, cancellationToken).ConfigureAwait(false))
            {
                return new HeartbeatAnswer(extended, null);
            }

            // A stop was signalled: read it back from the store, the only source of truth.
            var task = await store.TaskGetAsync(id, CancellationToken.None).ConfigureAwait(false);
            return IsHeldBy(task, token)
                ? new HeartbeatAnswer(extended with { StopRequested = task!.StopRequested }, null)
                : new HeartbeatAnswer(null, Explain(id, token, task));
        }
        finally
        {
            if (stop is not null)
            {
                signals.Stops.Release(id, stop);
            }
        }
    }

    /// <summary>Records success with <paramref name="resultJson"/> if the worker still holds the task. A repeat under the same lease is answered the same.</summary>
    /// <exception cref="TaskValidationException">The token or the result is invalid.</exception>
    public async Task<ReportAnswer> CompleteAsync(long id, string? leaseToken, string? resultJson, CancellationToken cancellationToken) =>
        (await ReportAsync([WorkerReport.Success(id, leaseToken, resultJson)], cancellationToken).ConfigureAwait(false))[0];

    /// <summary>
    /// Records a failed attempt if the worker still holds the task: retried after the backoff while attempts remain and
    /// <paramref name="retryable"/>, else failed; cancelled when a stop was requested (the worker's answer to the stop).
    /// </summary>
    /// <exception cref="TaskValidationException">The token or the error is invalid.</exception>
    public async Task<ReportAnswer> FailAsync(long id, string? leaseToken, string? error, bool retryable, CancellationToken cancellationToken) =>
        (await ReportAsync([WorkerReport.Failure(id, leaseToken, error, retryable)], cancellationToken).ConfigureAwait(false))[0];

    /// <summary>
    /// Records many outcomes at once, each fenced by its own lease, all in one durable write: the answers, in order,
    /// say for each what the task is now or why nothing was recorded for it. Nothing is written when one report is
    /// invalid (the exception's <see cref="TaskValidationException.Index"/> says which).
    /// </summary>
    /// <exception cref="TaskValidationException">A report is invalid, or the same task is reported twice.</exception>
    public async Task<IReadOnlyList<ReportAnswer>> ReportAsync(IReadOnlyList<WorkerReport> reports, CancellationToken cancellationToken)
    {
        var tokens = Validate(reports);
        var answers = new ReportAnswer?[reports.Count];
        var completions = new List<TaskCompletion>(reports.Count);
        var written = new List<int>(reports.Count);
        var now = time.GetUtcNow();
        for (var i = 0; i < reports.Count; i++)
        {
            var (report, token) = (reports[i], tokens[i]);
            TaskCompletion completion;
            if (!report.Failed)
            {
                completion = new TaskCompletion(report.Id, token.Holder, token.ClaimId, CompletionKind.Succeeded, now, ResultJson: report.ResultJson);
            }
            else
            {
                // The row says how many attempts are left and whether a stop came; the write below is fenced, so a
                // change in between (a rescue, say) is refused rather than overwritten.
                var task = await store.TaskGetAsync(report.Id, cancellationToken).ConfigureAwait(false);
                if (!IsHeldBy(task, token))
                {
                    var refused = Explain(report.Id, token, task);
                    Log.WorkerReportRefused(logger, report.Id, token.Worker, refused.Reason.ToString());
                    answers[i] = new ReportAnswer(null, null, refused);
                    continue;
                }

                completion = FailureOf(task!, token, report, now);
            }

            await progress.FinishAsync(report.Id).ConfigureAwait(false);
            completions.Add(completion);
            written.Add(i);
        }

        var applied = completions.Count == 0
            ? []
            : await store.TasksCompleteAsync(new TasksCompleteParams(completions) { Durable = true }, CancellationToken.None).ConfigureAwait(false);
        for (var j = 0; j < written.Count; j++)
        {
            var (i, completion) = (written[j], completions[j]);
            answers[i] = applied[j]
                ? Recorded(completion, tokens[i])
                : await NotRecordedAsync(completion, tokens[i], cancellationToken).ConfigureAwait(false);
        }

        return answers!;
    }

    private TaskCompletion FailureOf(TaskRecord task, LeaseToken token, WorkerReport report, DateTimeOffset now) =>
        task.StopRequested
            ? new TaskCompletion(task.Id, token.Holder, token.ClaimId, CompletionKind.Cancelled, now, Error: $"stopped by request; the worker reported: {report.Error}")
            : report.Retryable && task.Attempt < task.MaxAttempts
                ? new TaskCompletion(task.Id, token.Holder, token.ClaimId, CompletionKind.Retry, now, Error: report.Error,
                    RunAt: now + RetryBackoff.Delay(task.Attempt, settings.RetryBaseDelay, settings.RetryMaxDelay, Random.Shared))
                : new TaskCompletion(task.Id, token.Holder, token.ClaimId, CompletionKind.Failed, now, Error: report.Error);

    /// <summary>The answer to an outcome that was written: signals for whoever waits on the task, and a log line.</summary>
    private ReportAnswer Recorded(TaskCompletion completion, LeaseToken token)
    {
        var state = completion.Kind switch
        {
            CompletionKind.Succeeded => TaskState.Succeeded,
            CompletionKind.Cancelled => TaskState.Cancelled,
            CompletionKind.Retry => TaskState.Scheduled,
            _ => TaskState.Failed,
        };
        if (completion.RunAt is { } runAt)
        {
            signals.TasksReadyAt(runAt);
        }

        // A heartbeat still waiting on this task has nothing left to wait for.
        signals.Stops.Signal(completion.Id);
        Log.TaskReportedByWorker(logger, completion.Id, token.Worker, state.ToWire());
        return new ReportAnswer(state, completion.RunAt, null);
    }

    /// <summary>The answer to an outcome the fence refused; a success this lease already recorded is answered as recorded.</summary>
    private async Task<ReportAnswer> NotRecordedAsync(TaskCompletion completion, LeaseToken token, CancellationToken cancellationToken)
    {
        var succeeded = completion.Kind == CompletionKind.Succeeded;
        var refused = await RefuseAsync(completion.Id, token, reported: succeeded ? TaskState.Succeeded : null, cancellationToken).ConfigureAwait(false);
        return new ReportAnswer(refused is null ? TaskState.Succeeded : null, null, refused);
    }

    /// <summary>The lease token of each report, once every report is known to be valid.</summary>
    private LeaseToken[] Validate(IReadOnlyList<WorkerReport> reports)
    {
        if (reports.Count is 0 or > WorkerLimits.MaxReports)
        {
            throw new TaskValidationException("reports", $"reports must hold 1 to {WorkerLimits.MaxReports} outcomes (got {reports.Count}).");
        }

        var tokens = new LeaseToken[reports.Count];
        var seen = new HashSet<long>();
        for (var i = 0; i < reports.Count; i++)
        {
            var report = reports[i];
            try
            {
                tokens[i] = ParseToken(report.LeaseToken);
                if (!seen.Add(report.Id))
                {
                    throw new TaskValidationException("id", $"Task {report.Id} is reported twice in one request: report each task once.");
                }

                if (!report.Failed && report.ResultJson is not null
                    && JsonLimits.Check(report.ResultJson, settings.MaxPayloadBytes, settings.MaxJsonDepth) is { } violation)
                {
                    throw new TaskValidationException("result", "result refused: " + violation.Message) { IsTooLarge = violation.TooLarge };
                }

                if (report.Failed && (string.IsNullOrWhiteSpace(report.Error) || report.Error.Length > WorkerLimits.MaxErrorLength))
                {
                    throw new TaskValidationException("error", $"error must be a non-empty string of at most {WorkerLimits.MaxErrorLength} characters: what went wrong.");
                }
            }
            catch (TaskValidationException invalid)
            {
                // The place matters in a batch; a report of one task alone names just the field.
                throw invalid.At(i);
            }
        }

        return tokens;
    }

    /// <summary>Takes back tasks whose worker let its lease run out; the external lease rescuer calls it on every store.</summary>
    public async Task RescueAsync(CancellationToken cancellationToken)
    {
        const int Batch = 500;
        var requeued = false;
        IReadOnlyList<RescuedTask> rescued;
        do
        {
            rescued = await store.TasksRescueExternalAsync(new TasksRescueExternalParams(time.GetUtcNow(), Batch), cancellationToken).ConfigureAwait(false);
            foreach (var task in rescued)
            {
                Log.TaskRescuedFromWorker(logger, task.Id, ExternalHolder.WorkerOf(task.FromNode), task.NewState.ToWire());
                progress.Forget(task.Id);
                requeued |= task.NewState == TaskState.Queued;
            }
        }
        while (rescued.Count == Batch);

        if (requeued)
        {
            signals.TasksReady();
        }
    }

    /// <summary>Puts back tasks claimed for a caller that left before its answer: the attempt is not counted.</summary>
    private async Task ReleaseAsync(IReadOnlyList<TaskRecord> claimed, string worker)
    {
        var now = time.GetUtcNow();
        await store.TasksCompleteAsync(
            new TasksCompleteParams([.. claimed.Select(t => new TaskCompletion(t.Id, t.Node!, t.ClaimId!.Value, CompletionKind.Released, now, Error: "the worker left before the claim was answered"))]),
            CancellationToken.None).ConfigureAwait(false);
        Log.WorkerClaimReleased(logger, claimed.Count, worker);
        signals.TasksReady();
    }

    /// <summary>Reads the task to say why the lease no longer holds it; a repeated success under the same lease is not refused.</summary>
    private async Task<LeaseRefused?> RefuseAsync(long id, LeaseToken token, TaskState? reported, CancellationToken cancellationToken)
    {
        var task = await store.TaskGetAsync(id, cancellationToken).ConfigureAwait(false);
        if (reported == TaskState.Succeeded && task is { State: TaskState.Succeeded } && task.Node == token.Holder && task.ClaimId == token.ClaimId)
        {
            // This lease already recorded the success (the worker sent it again after losing the answer).
            return null;
        }

        var refused = Explain(id, token, task);
        Log.WorkerReportRefused(logger, id, token.Worker, refused.Reason.ToString());
        return refused;
    }

    private static bool IsHeldBy(TaskRecord? task, LeaseToken token) =>
        task is { State: TaskState.Running } && task.Node == token.Holder && task.ClaimId == token.ClaimId;

    /// <summary>Why <paramref name="token"/> no longer holds the task, from the task as it is now.</summary>
    private static LeaseRefused Explain(long id, LeaseToken token, TaskRecord? task)
    {
        if (task is null)
        {
            return new LeaseRefused(LeaseRefusal.NotFound, null, $"No task has the id '{id}'.");
        }

        var ours = task.Node == token.Holder && task.ClaimId == token.ClaimId;
        var state = task.State.ToWire();
        return task.State switch
        {
            TaskState.Cancelled => new LeaseRefused(LeaseRefusal.Stopped, task.State,
                $"Task {id} was stopped: it is cancelled, and nothing more is recorded for it."),
            TaskState.Succeeded or TaskState.Failed => new LeaseRefused(LeaseRefusal.Finished, task.State,
                ours ? $"Task {id} has already {state} under this lease; nothing more is recorded for it."
                     : $"Task {id} has already {state} in a later attempt: this lease was lost before (it expired and the task was taken back)."),
            TaskState.Scheduled when ours => new LeaseRefused(LeaseRefusal.LeaseLost, task.State,
                $"This lease's attempt of task {id} has already ended: it failed and the task waits for its retry."),
            TaskState.Running when !ours => new LeaseRefused(LeaseRefusal.LeaseLost, task.State,
                $"This lease on task {id} is lost: it expired and the task was taken back; attempt {task.Attempt} now runs under another lease."),
            _ => new LeaseRefused(LeaseRefusal.LeaseLost, task.State,
                $"This lease on task {id} is lost: it expired and the task was taken back; it is {state}, waiting for attempt {task.Attempt + 1} of {task.MaxAttempts}."),
        };
    }

    private (int Max, TimeSpan Wait, TimeSpan Lease) Validate(WorkerClaim claim)
    {
        if (TaskRules.CheckName("worker", claim.Worker) is { } workerError)
        {
            throw new TaskValidationException("worker", workerError + " The worker's name shows as the task's node while it runs.");
        }

        if (claim.Types is not { Count: > 0 and <= WorkerLimits.MaxNames })
        {
            throw new TaskValidationException("types", $"types must list 1 to {WorkerLimits.MaxNames} task types the worker runs (got {claim.Types?.Count ?? 0}).");
        }

        foreach (var type in claim.Types)
        {
            if ((TaskRules.CheckName("a task type", type) ?? types.RefusalFor(type)) is { } typeError)
            {
                throw new TaskValidationException("types", typeError);
            }
        }

        if (claim.Queues is { Count: > WorkerLimits.MaxNames })
        {
            throw new TaskValidationException("queues", $"queues may list at most {WorkerLimits.MaxNames} queues (got {claim.Queues.Count}).");
        }

        foreach (var queue in claim.Queues ?? [])
        {
            if (TaskRules.CheckQueue(queue) is { } queueError)
            {
                throw new TaskValidationException("queues", queueError);
            }
        }

        var max = claim.Max ?? WorkerLimits.DefaultClaim;
        if (max is < 1 or > WorkerLimits.MaxClaim)
        {
            throw new TaskValidationException("max", $"max must be between 1 and {WorkerLimits.MaxClaim} (got {max}).");
        }

        var wait = claim.Wait ?? WorkerLimits.DefaultClaimWait;
        if (wait < TimeSpan.Zero || wait > WorkerLimits.MaxWait)
        {
            throw new TaskValidationException("waitSeconds", $"waitSeconds must be between 0 and {WorkerLimits.MaxWait.TotalSeconds} (got {wait.TotalSeconds}).");
        }

        return (max, wait, CheckLease(claim.Lease));
    }

    private static TimeSpan CheckLease(TimeSpan? lease)
    {
        var value = lease ?? WorkerLimits.DefaultLease;
        if (value < WorkerLimits.MinLease || value > WorkerLimits.MaxLease)
        {
            throw new TaskValidationException("leaseSeconds",
                $"leaseSeconds must be between {WorkerLimits.MinLease.TotalSeconds} and {WorkerLimits.MaxLease.TotalSeconds} (got {value.TotalSeconds}).");
        }

        return value;
    }

    private static LeaseToken ParseToken(string? leaseToken) =>
        LeaseToken.TryParse(leaseToken, out var token)
            ? token
            : throw new TaskValidationException("leaseToken", "leaseToken must be the leaseToken a claim returned with the task, as it was given.");

    /// <summary>Waits for the signal; false when the wait ran out or was cancelled first.</summary>
    private async Task<bool> WaitAsync(Task signal, TimeSpan wait, CancellationToken cancellationToken)
    {
        try
        {
            await signal.WaitAsync(wait, time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
