namespace TaskSystem.Storage;

/// <summary>
/// Whether this node's writes reach its store, for the readiness probe. A store can answer every read while every
/// write fails (a full disk, a database that refuses writes), so readiness cannot learn this from a query. The stores
/// report their failed commits, and the engine its failed claims and completions (so a store that reports nothing is
/// still covered). The node is not ready while a write failed within <see cref="Memory"/>.
/// </summary>
/// <remarks>
/// Only failures are recorded, because a write that goes through proves little: a claim that finds nothing to claim
/// commits without writing a byte, even on a full disk. The node's own writes are the probe: a heartbeat every
/// <see cref="TaskSystemOptions.HeartbeatInterval"/> writes a row even on an idle node, so the memory outlasts that
/// interval: while writes fail, a failure is always recent; once they work, the node is ready again within the memory.
/// </remarks>
internal sealed class WriteHealth(TimeProvider time, TimeSpan memory)
{
    /// <summary>For the default heartbeat interval (10 s).</summary>
    public static readonly TimeSpan DefaultMemory = MemoryFor(TimeSpan.FromSeconds(10));

    private long _failures;
    private long _lastFailureAt;
    private string? _lastError;

    /// <summary>A store opened on its own: the memory for the default heartbeat interval.</summary>
    public WriteHealth(TimeProvider time)
        : this(time, DefaultMemory)
    {
    }

    /// <summary>How long a failed write keeps the node not ready: one heartbeat interval and 5 seconds more.</summary>
    public static TimeSpan MemoryFor(TimeSpan heartbeatInterval) => heartbeatInterval + TimeSpan.FromSeconds(5);

    public TimeSpan Memory => memory;

    /// <summary>Failed writes since the node started.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>A write failed because of the store or its environment (not because of one request's bad input).</summary>
    public void Failed(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        Volatile.Write(ref _lastError, exception.Message);
        Volatile.Write(ref _lastFailureAt, time.GetTimestamp());
        Interlocked.Increment(ref _failures);
    }

    /// <summary>Cheap: reads a few fields, never the store.</summary>
    public WriteHealthReport Check()
    {
        if (Failures == 0)
        {
            return WriteHealthReport.Healthy;
        }

        var since = time.GetElapsedTime(Volatile.Read(ref _lastFailureAt));
        return since >= memory
            ? WriteHealthReport.Healthy
            : new WriteHealthReport(false, $"Writes to the store fail: one failed {since.TotalSeconds:0.0} s ago ({Volatile.Read(ref _lastError)}).");
    }
}

/// <summary>What <see cref="WriteHealth.Check"/> found.</summary>
internal readonly record struct WriteHealthReport(bool CanWrite, string Description)
{
    public static WriteHealthReport Healthy { get; } = new(true, "No write failed recently.");
}
