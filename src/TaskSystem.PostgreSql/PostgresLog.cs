using Microsoft.Extensions.Logging;

namespace TaskSystem.PostgreSql;

/// <summary>The PostgreSQL store's log lines, source-generated, with stable event ids (the store's use 201 to 299).</summary>
internal static partial class PostgresLog
{
    [LoggerMessage(201, LogLevel.Warning, "Listening for other nodes' signals failed; reconnecting in {Delay} (a slow poll covers the gap)")]
    public static partial void ListenerFailed(ILogger logger, TimeSpan delay, Exception exception);

    [LoggerMessage(202, LogLevel.Information, "Listening for other nodes' signals again")]
    public static partial void ListenerReconnected(ILogger logger);

    [LoggerMessage(203, LogLevel.Warning, "A group insert of {Count} requests failed; writing each on its own so one bad request fails alone")]
    public static partial void InsertBatchSplit(ILogger logger, int count, Exception exception);

    [LoggerMessage(204, LogLevel.Warning, "A claim's outcome is unknown (the connection dropped); its tasks, if any, go back to the queue at the next claim")]
    public static partial void ClaimUncertain(ILogger logger);

    [LoggerMessage(205, LogLevel.Warning, "Put {Count} tasks of claims with an unknown outcome back in the queue")]
    public static partial void UncertainClaimsReleased(ILogger logger, int count);

    [LoggerMessage(206, LogLevel.Error, "A group insert of {Count} requests failed inside the batcher; its callers get the error and the batcher goes on")]
    public static partial void InsertBatchFaulted(ILogger logger, int count, Exception exception);
}
