namespace TaskSystem;

/// <summary>
/// The queue holds <see cref="TaskSystemOptions.MaxQueued"/> waiting tasks already: the enqueue was refused and
/// nothing was stored. Try again after <see cref="RetryAfter"/>; tasks accepted before are not affected.
/// </summary>
public sealed class TaskQueueFullException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TaskQueueFullException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public TaskQueueFullException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public TaskQueueFullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with the time after which the queue is counted again.</summary>
    public TaskQueueFullException(string message, TimeSpan retryAfter)
        : base(message) => RetryAfter = retryAfter;

    /// <summary>When trying again makes sense: the next count of the queue.</summary>
    public TimeSpan RetryAfter { get; } = TimeSpan.FromSeconds(1);
}
