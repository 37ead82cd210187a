using Microsoft.Extensions.Logging;

namespace TaskSystem.AspNetCore.Diagnostics;

/// <summary>The web layer's log lines, source-generated, with stable event ids (the library's use 1 to 99, the server's 101 to 199).</summary>
internal static partial class AspNetCoreLog
{
    [LoggerMessage(501, LogLevel.Warning, "The dashboard cannot read the store; open dashboards get no updates until it answers again")]
    public static partial void DashboardWatchFailed(ILogger logger, Exception exception);

    [LoggerMessage(502, LogLevel.Information, "The dashboard reads the store again")]
    public static partial void DashboardWatchRecovered(ILogger logger);
}
