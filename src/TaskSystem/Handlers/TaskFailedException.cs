namespace TaskSystem;

/// <summary>
/// Thrown by a handler to fail an attempt with a plain message (other exceptions are recorded with their type name).
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
}
