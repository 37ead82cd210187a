using System.Diagnostics.Metrics;
using TaskSystem.Storage.Sqlite;

namespace TaskSystem.Benchmarks.Support;

/// <summary>
/// Counts the fsync'd commits of one node's SQLite writer (its <c>tasksystem.sqlite.commits</c> counter with
/// <c>sqlite.synchronous = full</c>): what group commit shares among callers, counted rather than estimated from the
/// disk's fsync rate, since a writer busy with its own CPU work makes fewer fsyncs than the disk allows.
/// </summary>
internal sealed class SqliteCommitCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _fsynced;

    /// <param name="node">The node's meter factory: only its meters are counted.</param>
    public SqliteCommitCounter(IMeterFactory node)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Name == SqliteCommitMetrics.CommitsInstrument && ReferenceEquals(instrument.Meter.Scope, node))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == SqliteCommitMetrics.SynchronousTag && tag.Value is SqliteCommitMetrics.FullSynchronous)
                {
                    Interlocked.Add(ref _fsynced, value);
                }
            }
        });
        _listener.Start();
    }

    public long Fsynced => Interlocked.Read(ref _fsynced);

    public void Dispose() => _listener.Dispose();
}
