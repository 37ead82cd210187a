using Microsoft.Extensions.Logging;

namespace TaskSystem.Diagnostics;

/// <summary>Self-fencing's log lines (event ids 60 to 69).</summary>
internal static partial class Log
{
    [LoggerMessage(18, LogLevel.Warning, "Task {TaskId} ({TaskType}) attempt {Attempt} is interrupted: its lease could not be renewed for {FenceAfter} and runs out at {LeaseExpiresAt:O}; the handler is cancelled so that no other node runs the task beside it")]
    public static partial void AttemptFenced(ILogger logger, long taskId, string taskType, int attempt, TimeSpan fenceAfter, DateTimeOffset leaseExpiresAt);
}
