using System.Diagnostics.Metrics;
using TaskSystem.Diagnostics;

namespace TaskSystem.Storage.Sqlite;

/// <summary>
/// What the SQLite writer's group commit achieves: its commits, and the writes they carried, each by whether the
/// commit was fsync'd (<c>full</c>: enqueues, stops, retries) or left to the OS (<c>normal</c>: claims and outcomes
/// alone). Writes ÷ commits with <c>full</c> is how many callers shared one fsync; an operator reads the disk's
/// load from the commits' rate.
/// </summary>
internal sealed class SqliteCommitMetrics
{
    public const string SynchronousTag = "sqlite.synchronous";

    private static readonly KeyValuePair<string, object?> Full = new(SynchronousTag, "full");
    private static readonly KeyValuePair<string, object?> Normal = new(SynchronousTag, "normal");

    private readonly Counter<long> _commits;
    private readonly Counter<long> _writes;

    public SqliteCommitMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(new MeterOptions(TaskSystemDiagnostics.MeterName)
        {
            Version = typeof(SqliteCommitMetrics).Assembly.GetName().Version?.ToString(),
        });
        _commits = meter.CreateCounter<long>(
            "tasksystem.sqlite.commits", "{commit}", "Transactions the SQLite writer committed, by whether they were fsync'd.");
        _writes = meter.CreateCounter<long>(
            "tasksystem.sqlite.commit.writes", "{write}", "Writes (an insert, a claim, a batch of outcomes...) carried by those commits.");
    }

    /// <summary>One commit of <paramref name="writes"/> writes; <paramref name="fsynced"/> when it ran with synchronous = FULL.</summary>
    public void Committed(int writes, bool fsynced)
    {
        var synchronous = fsynced ? Full : Normal;
        _commits.Add(1, synchronous);
        _writes.Add(writes, synchronous);
    }
}
