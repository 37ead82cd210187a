using Microsoft.Extensions.Logging;

namespace TaskSystem.Diagnostics;

/// <summary>Progress reports' log lines (event ids 1201 to 1210).</summary>
internal static partial class Log
{
    [LoggerMessage(1201, LogLevel.Warning, "Task {TaskId}: its progress could not be written; the task goes on, and the next report tries again")]
    public static partial void ProgressWriteFailed(ILogger logger, long taskId, Exception exception);
}
