namespace TaskSystem;

/// <summary>The database cannot be reached right now; the operation did nothing and may be tried again.</summary>
public sealed class TaskStoreUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TaskStoreUnavailableException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public TaskStoreUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public TaskStoreUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
