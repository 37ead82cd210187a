namespace TaskSystem;

/// <summary>
/// Thrown by a handler to fail an attempt with a plain message (other exceptions are recorded with their type name).
/// It also says what the engine does next: retry with the task's backoff (the default), retry at a time the handler
/// knows better (<see cref="RetryAfter"/>), or fail the task at once (<c>retry: false</c>).
/// </summary>
public sealed class TaskFailedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TaskFailedException()
    {
    }

    /// <summary>Creates the exception with the message recorded as the task's error.</summary>
    public TaskFailedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the message recorded as the task's error.</summary>
    public TaskFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>
    /// Creates the exception with the message recorded as the task's error; with <paramref name="retry"/> false the
    /// task fails at once, whatever attempts it has left.
    /// </summary>
    public TaskFailedException(string message, bool retry)
        : base(message) => Retry = retry;

    /// <summary>
    /// Whether the task may be tried again (true by default). False fails the task now, even with attempts left:
    /// for errors another attempt cannot fix, such as a payload the receiver refuses.
    /// </summary>
    public bool Retry { get; init; } = true;

    /// <summary>
    /// When set, the next attempt runs this long after the failure instead of after the task's backoff (a receiver's
    /// <c>Retry-After</c>, say). The engine bounds it to between zero and <c>TaskSystem:RetryMaxDelay</c>. Ignored
    /// when <see cref="Retry"/> is false or no attempts are left.
    /// </summary>
    public TimeSpan? RetryAfter { get; init; }
}
