namespace TaskSystem.ExternalWorkers;

/// <summary>The bounds and defaults of the external worker protocol (docs/workers.md lists them).</summary>
internal static class WorkerLimits
{
    /// <summary>Most tasks one claim returns (<c>max</c>).</summary>
    public const int MaxClaim = 1000;

    /// <summary>Most outcomes one report (<c>POST /workers/report</c>) may carry: as many as one claim returns.</summary>
    public const int MaxReports = MaxClaim;

    /// <summary>Tasks a claim returns at most when it does not say (<c>max</c>).</summary>
    public const int DefaultClaim = 1;

    /// <summary>Longest long poll of a claim or a heartbeat (<c>waitSeconds</c>).</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(30);

    /// <summary>A claim's long poll when it does not say (<c>waitSeconds</c>).</summary>
    public static readonly TimeSpan DefaultClaimWait = TimeSpan.FromSeconds(20);

    /// <summary>Shortest lease (<c>leaseSeconds</c>).</summary>
    public static readonly TimeSpan MinLease = TimeSpan.FromSeconds(1);

    /// <summary>Longest lease (<c>leaseSeconds</c>): a worker that holds a task longer heartbeats.</summary>
    public static readonly TimeSpan MaxLease = TimeSpan.FromHours(1);

    /// <summary>The lease a claim or heartbeat gives when it does not say (<c>leaseSeconds</c>).</summary>
    public static readonly TimeSpan DefaultLease = TimeSpan.FromSeconds(30);

    /// <summary>Most types, and most queues, one claim may name.</summary>
    public const int MaxNames = 100;

    /// <summary>Longest error message a failure may report, in characters.</summary>
    public const int MaxErrorLength = 32 * 1024;
}
