namespace TaskSystem.Storage;

/// <summary>The errors a stopped task shows, shared by the engine and every store so that they read the same.</summary>
internal static class StopErrors
{
    /// <summary>
    /// The handler returned normally after its stop was requested: the stop wins (see
    /// <see cref="ITaskStore.TasksCompleteAsync"/>) and the task's result keeps what the handler returned.
    /// </summary>
    public const string ReturnedAfterStop = "stopped by request; the handler returned after its stop (its result is kept)";
}
