using System.Diagnostics.Metrics;
using TaskSystem.Diagnostics;

namespace TaskSystem.Storage.Sqlite;

/// <summary>
/// What the SQLite writer's group commit achieves: its commits, and the writes they carried, each by whether the
/// commit was fsync'd (<c>full</c>: the batch held a durable write, such as an enqueue, a stop, a manual retry or an
/// external worker's report) or left to the OS (<c>normal</c>: only the node's own claims, outcomes and heartbeats).
/// Writes ÷ commits with <c>full</c> is how many writes shared one fsync.
/// </summary>
internal sealed class SqliteCommitMetrics
{
    public const string CommitsInstrument = "tasksystem.sqlite.commits";
    public const string WritesInstrument = "tasksystem.sqlite.commit.writes";
    public const string SynchronousTag = "sqlite.synchronous";
    public const string FullSynchronous = "full";
    public const string NormalSynchronous = "normal";

    private static readonly KeyValuePair<string, object?> Full = new(SynchronousTag, FullSynchronous);
    private static readonly KeyValuePair<string, object?> Normal = new(SynchronousTag, NormalSynchronous);

    private readonly Counter<long> _commits;
    private readonly Counter<long> _writes;

    public SqliteCommitMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(new MeterOptions(TaskSystemDiagnostics.MeterName)
        {
            Version = typeof(SqliteCommitMetrics).Assembly.GetName().Version?.ToString(),
        });
        _commits = meter.CreateCounter<long>(
            CommitsInstrument, "{commit}", "Transactions the SQLite writer committed, by whether they were fsync'd.");
        _writes = meter.CreateCounter<long>(
            WritesInstrument, "{write}", "Writes (an insert, a claim, a batch of outcomes...) carried by those commits.");
    }

    /// <summary>One commit of <paramref name="writes"/> writes; <paramref name="fsynced"/> when it ran with synchronous = FULL.</summary>
    /// <remarks>Never throws for a listener's sake: called after the commit, whose callers must hear it succeeded.</remarks>
    public void Committed(int writes, bool fsynced)
    {
        var synchronous = fsynced ? Full : Normal;
        try
        {
            _commits.Add(1, synchronous);
            _writes.Add(writes, synchronous);
        }
        catch (Exception)
        {
            // A listener's bug: telemetry is lost, not the write it describes.
        }
    }
}
