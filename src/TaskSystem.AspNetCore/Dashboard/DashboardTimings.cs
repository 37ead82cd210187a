namespace TaskSystem.AspNetCore.Dashboard;

/// <summary>
/// The dashboard's rhythm. Fixed in production (docs/dashboard.md states these values as the stream's contract);
/// a separate object so that tests can shorten them.
/// </summary>
internal sealed record DashboardTimings
{
    /// <summary>How often the watcher reads the cheap figures while a stream is open.</summary>
    public TimeSpan Tick { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The shortest gap between two overviews while things change.</summary>
    public TimeSpan OverviewInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The longest gap between two overviews (node heartbeats, the chart's hour moving on).</summary>
    public TimeSpan OverviewRefresh { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>A comment line goes out this often on an idle stream, so proxies and clients know it is alive.</summary>
    public TimeSpan Heartbeat { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The reconnection delay the stream asks clients for (its <c>retry:</c> field).</summary>
    public TimeSpan Reconnect { get; init; } = TimeSpan.FromSeconds(2);
}
