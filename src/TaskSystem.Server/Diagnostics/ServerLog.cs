namespace TaskSystem.Server.Diagnostics;

/// <summary>The server's log lines, source-generated, with stable event ids (the library's use 1 to 99).</summary>
internal static partial class ServerLog
{
    [LoggerMessage(101, LogLevel.Information, "Demo task {TaskId} attempt {Attempt} payload: {Payload}")]
    public static partial void DemoPayload(ILogger logger, long taskId, int attempt, string payload);

    [LoggerMessage(102, LogLevel.Error, "Unhandled error in {Method} {Path}")]
    public static partial void UnhandledError(ILogger logger, string method, string path, Exception exception);
}
