using Microsoft.Extensions.Logging;

namespace TaskSystem.Handlers.Http;

/// <summary>The http task handler's log lines, source-generated, with stable event ids (301 and up).</summary>
internal static partial class HttpTargetLog
{
    [LoggerMessage(301, LogLevel.Warning, "Task {TaskId}: a connection to {Target} was refused: {Reason}")]
    public static partial void AddressRefused(ILogger logger, long taskId, string target, string reason);

    [LoggerMessage(302, LogLevel.Warning, "Task {TaskId}: {Target} redirected ({Status}) to a URL that is not allowed: {Reason}")]
    public static partial void RedirectRefused(ILogger logger, long taskId, string target, int status, string reason);

    [LoggerMessage(303, LogLevel.Debug, "Task {TaskId} attempt {Attempt}: {Target} answered {Status} in {DurationMs:0.0} ms")]
    public static partial void Answered(ILogger logger, long taskId, int attempt, string target, int status, double durationMs);
}
