using TaskSystem.Storage;

namespace TaskSystem.ExternalWorkers;

/// <summary>A long-polling claim of an external worker; null fields take the protocol's defaults (<see cref="WorkerLimits"/>).</summary>
/// <param name="Worker">The worker's name: shown as the task's node (<c>worker:</c> and the name).</param>
/// <param name="Types">The task types it runs.</param>
/// <param name="Queues">Only these queues; null or empty for all.</param>
/// <param name="Max">At most this many tasks.</param>
/// <param name="Wait">How long to wait for a task when none is ready.</param>
/// <param name="Lease">How long the worker holds each task without a heartbeat.</param>
internal sealed record WorkerClaim(string Worker, IReadOnlyList<string> Types, IReadOnlyList<string>? Queues, int? Max, TimeSpan? Wait, TimeSpan? Lease);

/// <summary>A task handed to an external worker, with the lease it holds it under.</summary>
internal sealed record ClaimedTask(TaskRecord Task, LeaseToken Lease, DateTimeOffset LeaseExpiresAt);

/// <summary>Why a worker's heartbeat or report was refused: the lease it shows no longer holds the task.</summary>
internal enum LeaseRefusal
{
    /// <summary>No task has that id.</summary>
    NotFound,

    /// <summary>The task was stopped: it is cancelled.</summary>
    Stopped,

    /// <summary>The lease ran out and the task was taken back (it waits for, or runs, another attempt).</summary>
    LeaseLost,

    /// <summary>The task has already succeeded or failed.</summary>
    Finished,
}

/// <summary>A refusal, the task's state when it was refused, and a sentence that says why.</summary>
internal sealed record LeaseRefused(LeaseRefusal Reason, TaskState? State, string Detail);

/// <summary>A heartbeat's answer: the extended lease, or why there is none.</summary>
internal sealed record HeartbeatAnswer(TaskLease? Lease, LeaseRefused? Refused);

/// <summary>A report's answer: the state the task is now in (and the retry's time), or why nothing was recorded.</summary>
internal sealed record ReportAnswer(TaskState? State, DateTimeOffset? RunAt, LeaseRefused? Refused);

/// <summary>The outcome of one attempt an external worker reports: a success with its result, or a failure.</summary>
/// <param name="Id">The task.</param>
/// <param name="LeaseToken">The lease token the claim returned with the task.</param>
/// <param name="ResultJson">A success's result (JSON text), or null.</param>
/// <param name="Error">A failure's message.</param>
/// <param name="Retryable">Whether a failure may be retried while attempts remain.</param>
/// <param name="Failed">Whether this is a failure.</param>
internal sealed record WorkerReport(long Id, string? LeaseToken, string? ResultJson, string? Error, bool Retryable, bool Failed)
{
    public static WorkerReport Success(long id, string? leaseToken, string? resultJson) => new(id, leaseToken, resultJson, null, false, false);

    public static WorkerReport Failure(long id, string? leaseToken, string? error, bool retryable) => new(id, leaseToken, null, error, retryable, true);
}

/// <summary>Progress an external worker reports in a heartbeat.</summary>
/// <param name="Percent">How far, from 0 to 100.</param>
/// <param name="Message">What it is doing, or null.</param>
internal sealed record WorkerProgress(double Percent, string? Message);
