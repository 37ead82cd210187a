namespace TaskSystem.Storage;

/// <summary>
/// Whether this node's writes reach its store, for the readiness probe. A store can answer every read while every
/// write fails (a full disk, a database that refuses writes), so readiness cannot learn this from a query. The stores
/// report the outcome of their commits, and the engine the outcome of its claims and completions (so a store that
/// reports nothing is still covered). The engine's own writes (a heartbeat every few seconds, a claim at each poll)
/// act as the probe: after a failure, the next one that goes through tells that writes work again.
/// </summary>
/// <remarks>
/// A failure counts for <see cref="FailureMemory"/>, even when other writes go through meanwhile: on a full disk,
/// small updates may fit where inserts do not, and readiness must not flap between the two.
/// </remarks>
internal sealed class WriteHealth(TimeProvider time)
{
    /// <summary>How long a failed write keeps the node not ready after writes go through again.</summary>
    public static readonly TimeSpan FailureMemory = TimeSpan.FromSeconds(5);

    private long _failures;
    private long _lastFailureAt;
    private int _lastFailed;
    private string? _lastError;

    /// <summary>A write committed.</summary>
    public void Succeeded() => Volatile.Write(ref _lastFailed, 0);

    /// <summary>A write failed because of the store or its environment (not because of one request's bad input).</summary>
    public void Failed(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        Volatile.Write(ref _lastError, exception.Message);
        Volatile.Write(ref _lastFailureAt, time.GetTimestamp());
        Volatile.Write(ref _lastFailed, 1);
        Interlocked.Increment(ref _failures);
    }

    /// <summary>Failed writes since the node started (for tests and diagnostics).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Cheap: reads a few fields, never the store.</summary>
    public WriteHealthReport Check()
    {
        if (Failures == 0)
        {
            return WriteHealthReport.Healthy;
        }

        var since = time.GetElapsedTime(Volatile.Read(ref _lastFailureAt));
        var lastFailed = Volatile.Read(ref _lastFailed) == 1;
        if (!lastFailed && since >= FailureMemory)
        {
            return WriteHealthReport.Healthy;
        }

        var state = lastFailed ? "the last write failed" : "writes go through again, but one failed";
        return new WriteHealthReport(false, $"Writes to the store fail: {state} {since.TotalSeconds:0.0} s ago ({Volatile.Read(ref _lastError)}).");
    }
}

/// <summary>What <see cref="WriteHealth.Check"/> found.</summary>
internal readonly record struct WriteHealthReport(bool CanWrite, string Description)
{
    public static WriteHealthReport Healthy { get; } = new(true, "Writes go through.");
}
