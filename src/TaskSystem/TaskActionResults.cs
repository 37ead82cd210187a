namespace TaskSystem;

/// <summary>What a stop did.</summary>
public enum StopOutcome
{
    /// <summary>The task is now cancelled: it was queued or scheduled, or it ran and has stopped.</summary>
    Cancelled,

    /// <summary>It was already cancelled; nothing changed.</summary>
    AlreadyCancelled,

    /// <summary>It had already succeeded or failed; a finished task cannot be stopped.</summary>
    AlreadyFinished,

    /// <summary>The stop is recorded, but the node running the task has not confirmed it within the wait.</summary>
    Pending,

    /// <summary>No task has that id.</summary>
    NotFound,
}

/// <summary>The result of <see cref="TaskManager.StopAsync"/>.</summary>
/// <param name="Outcome">What happened.</param>
/// <param name="Task">The task after the stop, or null when not found.</param>
public sealed record StopResult(StopOutcome Outcome, TaskInfo? Task);

/// <summary>What a retry did.</summary>
public enum RetryOutcome
{
    /// <summary>The task is back in the queue with a fresh set of attempts.</summary>
    Queued,

    /// <summary>Only failed or cancelled tasks can be retried.</summary>
    NotRetryable,

    /// <summary>No task has that id.</summary>
    NotFound,

    /// <summary>
    /// Its previous attempt's handler ignored cancellation and still runs on this node: retrying now would run the
    /// task twice at once. Try again once it returns.
    /// </summary>
    PreviousAttemptRunning,
}

/// <summary>The result of <see cref="TaskManager.RetryAsync"/>.</summary>
/// <param name="Outcome">What happened.</param>
/// <param name="Task">The task after the retry, or null when not found.</param>
public sealed record RetryResult(RetryOutcome Outcome, TaskInfo? Task);
