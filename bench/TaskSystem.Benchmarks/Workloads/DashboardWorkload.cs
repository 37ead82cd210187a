using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using TaskSystem.Benchmarks.Support;
using TaskSystem.PostgreSql;
using TaskSystem.Storage;
using TaskSystem.Storage.Sqlite;

namespace TaskSystem.Benchmarks.Workloads;

/// <summary>
/// What open dashboards cost a busy server, on a store of a million tasks (mostly finished, as after a few hours of
/// work): the overview's queries, the overview over HTTP, and POST /tasks p99 with no dashboard open and with ten
/// (ten event streams, which is what ten open browser tabs are to the server). Each store in its own server process.
/// </summary>
internal sealed class DashboardWorkload : IWorkload
{
    private const int Streams = 10;
    private const int Connections = 16;

    /// <summary>A task that runs at once: the server enqueues, runs and finishes tasks while it is measured, as in production.</summary>
    private const string Body = """{"type": "demo", "payload": {"durationMs": 0}}""";

    public string Name => "dashboard";

    public string Description => $"dashboards on a large store: the overview's cost, and POST /tasks p99 with 0 and {Streams} open event streams";

    public async Task RunAsync(BenchContext context)
    {
        var tasks = context.Options.Size(1_000_000, 5_000);
        var label = tasks >= 1_000_000 ? $"{tasks / 1_000_000}M" : $"{tasks / 1000}k";
        var sqlite = $"Data Source={Path.Combine(context.NewFolder(), "tasks.db")}";
        await SeedSqliteAsync(sqlite, tasks);
        await MeasureStoreAsync(context, "SQLite", label, new SqliteTaskStore(sqlite, NullLogger<SqliteTaskStore>.Instance), inProcess: true);
        await MeasureServerAsync(context, "SQLite", label, "--TaskSystem:ConnectionString", sqlite);

        if (await context.PostgresAsync() is null)
        {
            Console.WriteLine("  PostgreSQL is not available here: its lines are left out.");
            return;
        }

        var postgres = PostgresServer.NewDatabase();
        await SeedPostgresAsync(postgres, tasks);
        await MeasureStoreAsync(context, "PostgreSQL", label, new PostgresTaskStore(postgres, 4, "bench", TimeProvider.System, NullLogger<PostgresTaskStore>.Instance), inProcess: false);
        if (await PostgresCpuAsync(postgres) is { } cpu)
        {
            context.Report.Add("dashboard", $"PostgreSQL, {label} tasks: the overview's store reads, server CPU", cpu, "ms");
        }

        await MeasureServerAsync(context, "PostgreSQL", label, "--TaskSystem:Provider", "postgres", "--TaskSystem:ConnectionString", postgres);
    }

    /// <summary>
    /// The overview's three store reads, each alone (medians of 20 wall times), and for an in-process store their CPU
    /// time together: on a busy machine a wall time includes the wait for a core, a CPU time does not.
    /// </summary>
    private static async Task MeasureStoreAsync(BenchContext context, string store, string label, ITaskStore subject, bool inProcess)
    {
        await using (subject)
        {
            await subject.MigrateAsync(CancellationToken.None);
            var since = DateTimeOffset.UtcNow.AddMinutes(-59);
            var byState = await MedianAsync(20, () => subject.TasksCountByStateAsync(CancellationToken.None));
            var byQueue = await MedianAsync(20, () => subject.TasksCountByQueueAsync(CancellationToken.None));
            var histogram = await MedianAsync(20, () => subject.TasksFinishedHistogramAsync(new TasksFinishedHistogramParams(since, TimeSpan.FromMinutes(1)), CancellationToken.None));
            var report = context.Report;
            report.Add("dashboard", $"{store}, {label} tasks: counts per state (every watcher tick)", byState, "ms");
            report.Add("dashboard", $"{store}, {label} tasks: counts per queue and state", byQueue, "ms");
            report.Add("dashboard", $"{store}, {label} tasks: finished per minute, last hour", histogram, "ms");
            report.Add("dashboard", $"{store}, {label} tasks: the overview's store reads together", byState + byQueue + histogram, "ms");
            if (inProcess && await CpuPerRunAsync(Environment.ProcessId, 50, async () =>
            {
                await subject.TasksCountByStateAsync(CancellationToken.None);
                await subject.TasksCountByQueueAsync(CancellationToken.None);
                await subject.TasksFinishedHistogramAsync(new TasksFinishedHistogramParams(since, TimeSpan.FromMinutes(1)), CancellationToken.None);
            }) is { } cpu)
            {
                report.Add("dashboard", $"{store}, {label} tasks: the overview's store reads, CPU", cpu, "ms");
            }
        }
    }

    /// <summary>The CPU the PostgreSQL backend spends on the overview's three statements, run on a connection of our own.</summary>
    private static async Task<double?> PostgresCpuAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var pid = new NpgsqlCommand("SELECT pg_backend_pid()", connection);
        var backend = (int)(await pid.ExecuteScalarAsync())!;
        var since = new TasksFinishedHistogramParams(DateTimeOffset.UtcNow.AddMinutes(-59), TimeSpan.FromMinutes(1)).SinceMinute;
        return await CpuPerRunAsync(backend, 50, async () =>
        {
            foreach (var sql in new[] { PostgresTaskStore.CountByStateSql, PostgresTaskStore.CountByQueueSql, PostgresTaskStore.ThroughputSql })
            {
                await using var command = new NpgsqlCommand(sql, connection);
                if (sql.Contains("@since", StringComparison.Ordinal))
                {
                    command.Parameters.AddWithValue("since", since);
                }

                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                }
            }
        });
    }

    /// <summary>
    /// Runs <paramref name="action"/> once to warm up, then <paramref name="runs"/> times, and returns the CPU time
    /// process <paramref name="pid"/> spent per run (all its threads, from /proc/PID/task/*/schedstat, in nanoseconds);
    /// null where the kernel does not say.
    /// </summary>
    private static async Task<double?> CpuPerRunAsync(int pid, int runs, Func<Task> action)
    {
        await action();
        if (CpuNanoseconds(pid) is not { } before)
        {
            return null;
        }

        for (var i = 0; i < runs; i++)
        {
            await action();
        }

        return (CpuNanoseconds(pid) - before) / 1e6 / runs;
    }

    private static long? CpuNanoseconds(int pid)
    {
        try
        {
            return Directory.GetDirectories($"/proc/{pid}/task").Sum(thread =>
            {
                try
                {
                    return long.Parse(File.ReadAllText(Path.Combine(thread, "schedstat")).Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
                }
                catch (IOException)
                {
                    return 0; // The thread ended in between.
                }
            });
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The real server as a child process: the overview over HTTP, then POST /tasks with and without streams, alternating.</summary>
    private static async Task MeasureServerAsync(BenchContext context, string store, string label, params string[] settings)
    {
        var server = await TestSupport.ServerProcess.StartReadyAsync(settings);
        await using (server)
        {
            var endpoint = new IPEndPoint(IPAddress.Loopback, server.Address.Port);
            var duration = context.Options.Duration(5, 0.25);

            // The overview at rest first: nothing else runs on the server.
            var overview = await MedianAsync(20, async () =>
            {
                using var response = await server.Client.GetAsync(new Uri("/dashboard/api/overview", UriKind.Relative));
                return response.EnsureSuccessStatusCode();
            });
            var seededQueued = await UnfinishedAsync(server);
            await HttpLoad.RunAsync(endpoint, "/tasks", Body, Connections, context.Options.Duration(2, 0.15)); // warm-up
            await DrainedAsync(server, seededQueued);

            var without = new List<double>();
            var with = new List<double>();
            for (var round = 0; round < (context.Options.Quick ? 1 : 3); round++)
            {
                without.Add(Check(await HttpLoad.RunAsync(endpoint, "/tasks", Body, Connections, duration)).Latencies.Percentile(99));
                await DrainedAsync(server, seededQueued);
                var streams = await Task.WhenAll(Enumerable.Range(0, Streams).Select(_ => EventStream.OpenAsync(endpoint)));
                try
                {
                    await Task.WhenAll(streams.Select(s => s.FirstOverview)).WaitAsync(TimeSpan.FromSeconds(30));
                    with.Add(Check(await HttpLoad.RunAsync(endpoint, "/tasks", Body, Connections, duration)).Latencies.Percentile(99));
                    Console.WriteLine($"  {store} round {round + 1}: p99 {without[^1]:F2} ms without streams, {with[^1]:F2} ms with {Streams} " +
                        $"(they got {streams.Sum(s => s.Events)} events)");
                }
                finally
                {
                    foreach (var stream in streams)
                    {
                        stream.Dispose();
                    }
                }

                await DrainedAsync(server, seededQueued);
            }

            var report = context.Report;
            report.Add("dashboard", $"{store}, {label} tasks: GET /dashboard/api/overview", overview, "ms");
            var p99Without = report.Add("dashboard", $"{store}: POST /tasks p99, {Connections} connections, no dashboard open", Median(without), "ms");
            var p99With = report.Add("dashboard", $"{store}: POST /tasks p99, {Connections} connections, {Streams} dashboards open", Median(with), "ms");
            report.Ratio($"dashboard-{store.ToLowerInvariant()}-p99", p99With / p99Without,
                $"{store}: POST /tasks p99 with {Streams} open dashboards ÷ with none (target ≤ 1.2)");
        }
    }

    /// <summary>Queued plus running tasks, from the overview.</summary>
    private static async Task<long> UnfinishedAsync(TestSupport.ServerProcess server)
    {
        using var response = await server.Client.GetAsync(new Uri("/dashboard/api/overview", UriKind.Relative));
        using var overview = System.Text.Json.JsonDocument.Parse(await response.EnsureSuccessStatusCode().Content.ReadAsStringAsync());
        var counts = overview.RootElement.GetProperty("counts");
        return counts.GetProperty("queued").GetInt64() + counts.GetProperty("running").GetInt64();
    }

    /// <summary>Waits (a minute at most) until the server has run the tasks a load left, so that every run starts alike.</summary>
    private static async Task DrainedAsync(TestSupport.ServerProcess server, long seededQueued)
    {
        var deadline = Stopwatch.StartNew();
        long left;
        while ((left = await UnfinishedAsync(server) - seededQueued) > 0)
        {
            if (deadline.Elapsed > TimeSpan.FromMinutes(1))
            {
                Console.WriteLine($"  {left} tasks were still queued or running after a minute; measuring anyway");
                return;
            }

            await Task.Delay(200);
        }
    }

    private static HttpLoadResult Check(HttpLoadResult result) =>
        result.Statuses.Keys.All(status => status == 201)
            ? result
            : throw new InvalidOperationException($"Unexpected statuses: {string.Join(", ", result.Statuses.Select(s => $"{s.Key}×{s.Value}"))}");

    /// <summary>
    /// Seeds tasks of a type no server handles, in five queues, over the last two hours (half of them in the chart's
    /// hour): 1% queued, 5% failed, 4% cancelled, the rest succeeded. Written in bulk, then the counters filled from the rows.
    /// </summary>
    private static async Task SeedSqliteAsync(string connectionString, int count)
    {
        await using (var store = new SqliteTaskStore(connectionString, NullLogger<SqliteTaskStore>.Instance))
        {
            await store.MigrateAsync(CancellationToken.None);
        }

        var clock = Stopwatch.StartNew();
        await using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using (var seed = connection.CreateCommand())
        {
            seed.CommandText = $$"""
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $count)
                INSERT INTO tasks (type, queue, priority, payload, state, attempt, max_attempts, timeout_ms, created_at, run_at, started_at, finished_at, node)
                SELECT 'bulk', 'q' || (i % 5), 0, '{"n":' || i || '}', {{StateOf("i")}}, 1, 3, 60000,
                       $now - ($count - i) * $step, $now - ($count - i) * $step, $now - ($count - i) * $step,
                       CASE WHEN i % 100 = 0 THEN NULL ELSE $now - ($count - i) * $step END, 'bulk-node'
                FROM n;
                {{SqliteSchema.RecountSql}}
                """;
            seed.Parameters.AddWithValue("$count", count);
            seed.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            seed.Parameters.AddWithValue("$step", 7_200_000 / count);
            seed.ExecuteNonQuery();
        }

        Console.WriteLine($"  seeded {count:N0} tasks in SQLite in {clock.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>The same tasks in PostgreSQL, loaded with the counting triggers off (a bulk load), then counted once.</summary>
    private static async Task SeedPostgresAsync(string connectionString, int count)
    {
        await using (var store = new PostgresTaskStore(connectionString, 2, "seed", TimeProvider.System, NullLogger<PostgresTaskStore>.Instance))
        {
            await store.MigrateAsync(CancellationToken.None);
        }

        var clock = Stopwatch.StartNew();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var seed = new NpgsqlCommand($$"""
            SET session_replication_role = replica;
            INSERT INTO tasksystem_tasks (type, queue, priority, payload, state, attempt, max_attempts, timeout_ms, created_at, run_at, started_at, finished_at, node)
            SELECT 'bulk', 'q' || (i % 5), 0, '{"n":' || i || '}', {{StateOf("i")}}, 1, 3, 60000, t, t, t,
                   CASE WHEN i % 100 = 0 THEN NULL ELSE t END, 'bulk-node'
            FROM generate_series(1, {{count}}) AS i, LATERAL (SELECT now() - ({{count}} - i) * interval '{{7_200_000 / count}} milliseconds' AS t) AS at;
            SET session_replication_role = DEFAULT;
            {{PostgresCounters.RecountSql}}
            """, connection) { CommandTimeout = 600 })
        {
            await seed.ExecuteNonQueryAsync();
        }

        // Statistics, as autovacuum would have them for a table that grew slowly.
        await using (var analyze = new NpgsqlCommand("VACUUM ANALYZE tasksystem_tasks", connection) { CommandTimeout = 600 })
        {
            await analyze.ExecuteNonQueryAsync();
        }

        Console.WriteLine($"  seeded {count:N0} tasks in PostgreSQL in {clock.Elapsed.TotalSeconds:F1} s");
    }

    private static string StateOf(string i) =>
        $"CASE WHEN {i} % 100 = 0 THEN 'queued' WHEN {i} % 20 = 0 THEN 'failed' WHEN {i} % 25 = 0 THEN 'cancelled' ELSE 'succeeded' END";

    /// <summary>Runs once to warm up, then <paramref name="runs"/> times; the median in milliseconds.</summary>
    private static async Task<double> MedianAsync<T>(int runs, Func<Task<T>> action)
    {
        await action();
        var times = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var watch = Stopwatch.StartNew();
            await action();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        return Median(times);
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    /// <summary>One dashboard's event stream on a raw socket, read as fast as it comes, as a browser would.</summary>
    private sealed class EventStream : IDisposable
    {
        private static readonly byte[] OverviewEvent = Encoding.ASCII.GetBytes("event: overview");
        private readonly Socket _socket;
        private readonly TaskCompletionSource _firstOverview = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _events;

        private EventStream(Socket socket) => _socket = socket;

        public Task FirstOverview => _firstOverview.Task;

        /// <summary>Overview events received (the stats events between them are not counted).</summary>
        public int Events => Volatile.Read(ref _events);

        public static async Task<EventStream> OpenAsync(IPEndPoint server)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(server);
            await socket.SendAsync(Encoding.ASCII.GetBytes($"GET /dashboard/api/events HTTP/1.1\r\nHost: {server}\r\nAccept: text/event-stream\r\n\r\n"), SocketFlags.None);
            var stream = new EventStream(socket);
            _ = stream.ReadAsync();
            return stream;
        }

        private async Task ReadAsync()
        {
            var buffer = new byte[64 * 1024];
            var carried = 0;
            try
            {
                while (true)
                {
                    var read = await _socket.ReceiveAsync(buffer.AsMemory(carried), SocketFlags.None);
                    if (read == 0)
                    {
                        return;
                    }

                    // Count the marker in what arrived, keeping a marker's length at the end in case it was cut in two.
                    var span = buffer.AsSpan(0, carried + read);
                    var at = 0;
                    int found;
                    while ((found = span[at..].IndexOf(OverviewEvent)) >= 0)
                    {
                        at += found + OverviewEvent.Length;
                        Interlocked.Increment(ref _events);
                        _firstOverview.TrySetResult();
                    }

                    carried = Math.Min(OverviewEvent.Length - 1, span.Length - at);
                    span[^carried..].CopyTo(buffer);
                }
            }
            catch (SocketException)
            {
                // Closed by Dispose.
            }
            catch (ObjectDisposedException)
            {
                // Closed by Dispose.
            }
        }

        public void Dispose() => _socket.Dispose();
    }
}
