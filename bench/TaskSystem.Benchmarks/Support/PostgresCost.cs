using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace TaskSystem.Benchmarks.Support;

/// <summary>
/// What a run on one database costs the PostgreSQL server: deltas of <c>pg_stat_wal</c> (the whole server's WAL),
/// <c>pg_stat_database</c> and <c>pg_stat_statements</c> (that database only), and the CPU time of the server's
/// processes read from /proc. Each snapshot is taken once no process of the server serves that database any more:
/// a backend publishes its counters when it exits (an idle one may hold them for up to ten seconds). The CPU time of
/// the server's processes is sampled every 50 ms and each process's last reading kept, so that backends that come and
/// go between two snapshots are counted too (less their last 50 ms at most). The statistics queries run in the <c>postgres</c> database and are left out.
/// </summary>
internal sealed class PostgresCost : IDisposable
{
    private static readonly TimeSpan IdleDeadline = TimeSpan.FromSeconds(15);
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    private readonly string _database;
    private readonly int _postmaster;
    private readonly Dictionary<int, long> _lastSeen = [];
    private readonly Timer _sampler;

    private PostgresCost(string database, int postmaster)
    {
        _database = database;
        _postmaster = postmaster;
        _sampler = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(50));
    }

    /// <summary>Stops sampling the server's processes.</summary>
    public void Dispose() => _sampler.Dispose();

    /// <summary>A probe for the database of <paramref name="connectionString"/>; null where /proc cannot be read.</summary>
    public static async Task<PostgresCost?> ForAsync(string connectionString)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        await using var connection = new NpgsqlConnection(PostgresServer.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pg_backend_pid()", connection);
        var backend = (int)(await command.ExecuteScalarAsync())!;
        var postmaster = Stat(backend) is { } stat ? int.Parse(stat[1], CultureInfo.InvariantCulture) : 0;
        return postmaster > 1 ? new PostgresCost(new NpgsqlConnectionStringBuilder(connectionString).Database!, postmaster) : null;
    }

    /// <summary>Waits until no server process serves the database (deadline 15 s), then reads every counter.</summary>
    public async Task<Counters> SnapshotAsync()
    {
        var waited = Stopwatch.StartNew();
        while (ServesDatabase() && waited.Elapsed < IdleDeadline)
        {
            await Task.Delay(5);
        }

        if (waited.Elapsed >= IdleDeadline)
        {
            Console.WriteLine($"  (a server process still served {_database} after {IdleDeadline.TotalSeconds:0} s: its counters may be missing)");
        }

        var cpu = ServerCpu();
        await using var connection = new NpgsqlConnection(PostgresServer.AdminConnectionString);
        await connection.OpenAsync();
        await using (var clear = new NpgsqlCommand("SELECT pg_stat_clear_snapshot()", connection))
        {
            await clear.ExecuteNonQueryAsync();
        }

        long[] wal;
        await using (var command = new NpgsqlCommand("SELECT wal_records, wal_fpi, wal_bytes::bigint, wal_write, wal_sync FROM pg_stat_wal", connection))
        {
            wal = await ReadRowAsync(command, 5);
        }

        long[] database;
        await using (var command = new NpgsqlCommand(
            "SELECT xact_commit, xact_rollback, blks_hit, blks_read, tup_inserted, tup_updated, tup_deleted FROM pg_stat_database WHERE datname = $1", connection))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = _database });
            database = await ReadRowAsync(command, 7);
        }

        var statements = new Dictionary<string, (long Calls, double Milliseconds)>();
        if (PostgresServer.HasStatementStatistics)
        {
            await using var command = new NpgsqlCommand(
                "SELECT query, calls, total_exec_time FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1)", connection);
            command.Parameters.Add(new NpgsqlParameter { Value = _database });
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var text = reader.GetString(0);
                var (calls, milliseconds) = statements.GetValueOrDefault(text);
                statements[text] = (calls + reader.GetInt64(1), milliseconds + reader.GetDouble(2));
            }
        }

        return new Counters(wal, database, statements, cpu);
    }

    /// <summary>Adds the per-task figures of <paramref name="after"/> − <paramref name="before"/> to the report, and lists the statements on the console.</summary>
    public static Counters.Delta Report(Report report, string label, Counters before, Counters after, int tasks)
    {
        var delta = after.Minus(before);
        double PerTask(double value) => value / tasks;
        report.Add("pg-cost", $"{label}: commits per task", PerTask(delta.Commits), "commits");
        report.Add("pg-cost", $"{label}: WAL bytes per task", PerTask(delta.WalBytes), "bytes");
        report.Add("pg-cost", $"{label}: WAL records per task", PerTask(delta.WalRecords), "records");
        report.Add("pg-cost", $"{label}: WAL flushes (fsyncs) per task", PerTask(delta.WalSyncs), "fsyncs");
        report.Add("pg-cost", $"{label}: statements per task", PerTask(delta.Statements), "statements");
        report.Add("pg-cost", $"{label}: statement execution time per task", PerTask(delta.StatementMilliseconds) * 1000, "µs");
        report.Add("pg-cost", $"{label}: server CPU per task (all its processes)", PerTask(delta.ServerCpu.TotalMicroseconds), "µs");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    per task: {PerTask(delta.Rollbacks):0.###} rollbacks, {PerTask(delta.WalWrites):0.###} WAL writes, {PerTask(delta.WalFpi):0.###} full-page images, " +
            $"{PerTask(delta.BlocksHit):0.#} blocks hit, {PerTask(delta.BlocksRead):0.###} read, tuples {PerTask(delta.Inserted):0.###} inserted, " +
            $"{PerTask(delta.Updated):0.###} updated, {PerTask(delta.Deleted):0.###} deleted"));
        foreach (var (text, calls, milliseconds) in delta.ByStatement.OrderByDescending(s => s.Milliseconds).Take(8))
        {
            var oneLine = string.Join(' ', text.Split((char[])['\n', '\r', '\t', ' '], StringSplitOptions.RemoveEmptyEntries));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    {PerTask(calls),8:0.0000} calls/task {PerTask(milliseconds) * 1000,8:0.0} µs/task  {(oneLine.Length > 90 ? oneLine[..90] + "…" : oneLine)}"));
        }

        return delta;
    }

    private bool ServesDatabase()
    {
        foreach (var pid in Children())
        {
            if (Stat(pid) is { } stat && stat[0] == "Z")
            {
                return true; // exited, not yet reaped: its CPU time is not in the postmaster's yet
            }

            try
            {
                if (File.ReadAllText($"/proc/{pid}/cmdline").Contains(_database, StringComparison.Ordinal))
                {
                    return true;
                }
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
        }

        return false;
    }

    /// <summary>
    /// The CPU time of the postmaster and of every process of it seen so far: each child's last reading is kept, so that
    /// a backend that exited still counts (the postmaster's time for its reaped children did not grow for them here).
    /// </summary>
    private TimeSpan ServerCpu()
    {
        Sample();
        lock (_lastSeen)
        {
            var own = Stat(_postmaster) is { } stat ? long.Parse(stat[11], CultureInfo.InvariantCulture) + long.Parse(stat[12], CultureInfo.InvariantCulture) : 0;
            return TimeSpan.FromSeconds((own + _lastSeen.Values.Sum()) / TicksPerSecond);
        }
    }

    /// <summary>Reads every child's CPU time (a timer does this every 50 ms, so that backends that exit between snapshots are counted).</summary>
    private void Sample()
    {
        foreach (var pid in Children())
        {
            if (Stat(pid) is { } stat && stat[0] != "Z")
            {
                var ticks = long.Parse(stat[11], CultureInfo.InvariantCulture) + long.Parse(stat[12], CultureInfo.InvariantCulture);
                lock (_lastSeen)
                {
                    _lastSeen[pid] = Math.Max(ticks, _lastSeen.GetValueOrDefault(pid));
                }
            }
        }
    }

    private List<int> Children()
    {
        var children = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid) && Stat(pid) is { } stat && stat[1] == _postmaster.ToString(CultureInfo.InvariantCulture))
            {
                children.Add(pid);
            }
        }

        return children;
    }

    /// <summary>The fields of /proc/PID/stat after the command name: [0] state, [1] ppid, [11] utime, [12] stime, [13] cutime, [14] cstime.</summary>
    private static string[]? Stat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            return text[(text.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static async Task<long[]> ReadRowAsync(NpgsqlCommand command, int columns)
    {
        await using var reader = await command.ExecuteReaderAsync();
        var row = new long[columns];
        if (await reader.ReadAsync())
        {
            for (var i = 0; i < columns; i++)
            {
                row[i] = reader.IsDBNull(i) ? 0 : reader.GetInt64(i);
            }
        }

        return row;
    }

    /// <summary>The counters at one moment.</summary>
    internal sealed record Counters(long[] Wal, long[] Database, Dictionary<string, (long Calls, double Milliseconds)> Statements, TimeSpan ServerCpu)
    {
        public Delta Minus(Counters before)
        {
            long Wal(int i) => this.Wal[i] - before.Wal[i];
            long Db(int i) => Database[i] - before.Database[i];
            var byStatement = Statements
                .Select(s => (Text: s.Key, Calls: s.Value.Calls - before.Statements.GetValueOrDefault(s.Key).Calls, Milliseconds: s.Value.Milliseconds - before.Statements.GetValueOrDefault(s.Key).Milliseconds))
                .Where(s => s.Calls > 0)
                .ToList();
            return new Delta(Wal(0), Wal(1), Wal(2), Wal(3), Wal(4), Db(0), Db(1), Db(2), Db(3), Db(4), Db(5), Db(6),
                byStatement.Sum(s => s.Calls), byStatement.Sum(s => s.Milliseconds), byStatement, ServerCpu - before.ServerCpu);
        }

        /// <summary>What happened between two snapshots.</summary>
        internal sealed record Delta(
            long WalRecords, long WalFpi, long WalBytes, long WalWrites, long WalSyncs,
            long Commits, long Rollbacks, long BlocksHit, long BlocksRead, long Inserted, long Updated, long Deleted,
            long Statements, double StatementMilliseconds, List<(string Text, long Calls, double Milliseconds)> ByStatement, TimeSpan ServerCpu);
    }
}
