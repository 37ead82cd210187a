using System.Diagnostics;
using Hangfire;
using Hangfire.InMemory;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.Storage.SQLite;

namespace TaskSystem.Benchmarks.Subjects;

/// <summary>A Hangfire server in this process on one of its storages, running the same no-op job.</summary>
internal sealed class HangfireNode : IDisposable
{
    private readonly int _workers;
    private BackgroundJobServer? _server;

    private HangfireNode(JobStorage storage, int workers)
    {
        Storage = storage;
        _workers = workers;
        Client = new BackgroundJobClient(storage);
    }

    public JobStorage Storage { get; }

    public BackgroundJobClient Client { get; }

    /// <summary>Hangfire.Storage.SQLite with a short queue poll (its default is slower; shorter made little difference).</summary>
    public static HangfireNode Sqlite(string folder, int workers) =>
        new(new SQLiteStorage(Path.Combine(folder, "hangfire.db"), new SQLiteStorageOptions { QueuePollInterval = TimeSpan.FromMilliseconds(100) }), workers);

    /// <summary>Hangfire.PostgreSql with LISTEN/NOTIFY long polling on.</summary>
    public static HangfireNode Postgres(string connectionString, int workers)
    {
        var options = new PostgreSqlStorageOptions
        {
            QueuePollInterval = TimeSpan.FromMilliseconds(100),
            PrepareSchemaIfNecessary = true,
            EnableLongPolling = true,
            SchemaName = "hangfire_" + Guid.NewGuid().ToString("N")[..8],
        };
        return new HangfireNode(new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, options), options), workers);
    }

    /// <summary>Hangfire.InMemory: nothing durable, the reference for speed.</summary>
    public static HangfireNode InMemory(int workers) => new(new InMemoryStorage(), workers);

    public void Start() => _server ??= new BackgroundJobServer(
        new BackgroundJobServerOptions
        {
            WorkerCount = _workers,
            SchedulePollingInterval = TimeSpan.FromMilliseconds(100),
            CancellationCheckInterval = TimeSpan.FromMilliseconds(100),
            ServerName = "bench-" + Guid.NewGuid().ToString("N")[..6],
        },
        Storage);

    public void EnqueueNoops(int count)
    {
        for (var i = 0; i < count; i++)
        {
            Client.Enqueue(() => HangfireJobs.Noop());
        }
    }

    /// <summary>
    /// Starts the server and waits until the jobs ran and their state changes are stored. A run that does not drain
    /// within <paramref name="maxWait"/> (three minutes by default) is reported at the rate it reached up to its last
    /// job that ran, so that one stuck job does not count the wait as its time, and says so on the console.
    /// </summary>
    public double StartAndDrain(int count, TimeSpan? maxWait = null)
    {
        var wait = maxWait ?? TimeSpan.FromMinutes(3);
        var start = HangfireJobs.Executed;
        var started = Stopwatch.GetTimestamp();
        Start();
        if (!WaitDrained(start + count, wait))
        {
            var monitoring = Storage.GetMonitoringApi();
            var ran = HangfireJobs.Executed - start;
            Console.WriteLine($"  (Hangfire did not drain in {wait.TotalSeconds:0} s: {ran} of {count} ran; " +
                $"{monitoring.EnqueuedCount("default")} enqueued, {monitoring.ProcessingCount()} processing, {monitoring.FailedCount()} failed, {monitoring.ScheduledCount()} scheduled for retry; " +
                "reported at the rate up to its last job that ran)");
            return ran == 0 ? 0 : ran / Stopwatch.GetElapsedTime(started, HangfireJobs.LastExecutedTimestamp).TotalSeconds;
        }

        return (HangfireJobs.Executed - start) / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>
    /// Waits until the jobs ran and their state changes are stored: nothing enqueued or processing. (The storage's
    /// succeeded list cannot be counted: Hangfire trims it to its last hundred entries.) False at the deadline.
    /// </summary>
    public bool WaitDrained(long executed, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        var monitoring = Storage.GetMonitoringApi();
        while (HangfireJobs.Executed < executed || monitoring.ProcessingCount() > 0 || monitoring.EnqueuedCount("default") > 0)
        {
            if (deadline.Elapsed > timeout)
            {
                return false;
            }

            Thread.Sleep(5);
        }

        return true;
    }

    public void Dispose()
    {
        _server?.SendStop();
        _server?.Dispose();
        (Storage as IDisposable)?.Dispose();
    }
}

/// <summary>The jobs Hangfire runs; public and static so that Hangfire can serialize calls to them.</summary>
public static class HangfireJobs
{
    private static long _executed;
    private static long _lastExecutedTimestamp;

    public static ProbeBoard Probes { get; } = new();

    public static long Executed => Interlocked.Read(ref _executed);

    /// <summary>When the latest job ran (a <see cref="Stopwatch"/> timestamp).</summary>
    public static long LastExecutedTimestamp => Interlocked.Read(ref _lastExecutedTimestamp);

    public static void Noop()
    {
        Interlocked.Increment(ref _executed);
        Interlocked.Exchange(ref _lastExecutedTimestamp, Stopwatch.GetTimestamp());
    }

    public static void Probe(string key) => Probes.Started(key);

    public static async Task Wait(string key, CancellationToken token)
    {
        Probes.Started(key);
        try
        {
            await Task.Delay(Timeout.Infinite, token);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Seen where the job sees it (see TaskSystemNode's wait handler for why not by a callback on the token).
            Probes.Cancelled(key);
            throw;
        }
    }
}
