using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace TaskSystem.Benchmarks.Workloads;

/// <summary>The physical bound of durable writes on this disk: fsync'd small writes, and single-row SQLite commits.</summary>
internal sealed class DiskSyncWorkload : IWorkload
{
    public string Name => "disk";

    public string Description => "fsync'd small writes per second (the bound that group commit works around)";

    public async Task RunAsync(BenchContext context)
    {
        var duration = context.Options.Duration(3, 0.5);
        var folder = context.NewFolder();

        var path = Path.Combine(folder, "fsync.bin");
        var writes = 0;
        await using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None))
        {
            var record = new byte[100];
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < duration)
            {
                file.Write(record);
                file.Flush(flushToDisk: true);
                writes++;
            }

            context.Report.Add("disk", "fsync'd 100-byte writes", writes / clock.Elapsed.TotalSeconds, "writes/s");
        }

        // SQLite WAL with synchronous=FULL: one row per transaction, the cost of a commit without group commit.
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(folder, "commits.db")}");
        connection.Open();
        await using (var setup = connection.CreateCommand())
        {
            setup.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)";
            setup.ExecuteNonQuery();
        }

        await using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO t (v) VALUES ('{}')";
        var commits = 0;
        var timer = Stopwatch.StartNew();
        while (timer.Elapsed < duration)
        {
            insert.ExecuteNonQuery();
            commits++;
        }

        context.Report.Add("disk", "SQLite single-row commits (WAL, synchronous=FULL)", commits / timer.Elapsed.TotalSeconds, "commits/s");
    }
}
