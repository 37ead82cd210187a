using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace TaskSystem.TestSupport;

/// <summary>
/// A PostgreSQL server for tests. By default a throwaway one: initdb into a temporary folder, started on a free
/// loopback port, deleted at the end. <c>TASKSYSTEM_TEST_POSTGRES</c> (a connection string) points the tests at an
/// existing server instead; it needs the right to create databases. The server binaries are found in
/// <c>TASKSYSTEM_PG_BIN</c>, else under /usr/lib/postgresql, else on the PATH. Nothing skips: if no server can be
/// had, the tests fail and say why.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private static readonly Lazy<Task<PostgresServer>> Shared = new(CreateSharedAsync);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(90);
    private readonly string? _directory;
    private readonly string? _binaries;
    private readonly List<string> _databases = [];

    private PostgresServer(string adminConnectionString, string? directory, string? binaries)
    {
        AdminConnectionString = adminConnectionString;
        _directory = directory;
        _binaries = binaries;
    }

    /// <summary>Connects as a superuser to the <c>postgres</c> database.</summary>
    public string AdminConnectionString { get; }

    /// <summary>True when a server can be had: <c>TASKSYSTEM_TEST_POSTGRES</c> is set, or server binaries are installed.</summary>
    public static bool CanStart
    {
        get
        {
            if (Environment.GetEnvironmentVariable("TASKSYSTEM_TEST_POSTGRES") is { Length: > 0 })
            {
                return true;
            }

            try
            {
                FindBinaries();
                return true;
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        }
    }

    /// <summary>The one server the whole test run shares (each test still gets a database of its own).</summary>
    public static Task<PostgresServer> SharedAsync() => Shared.Value;

    /// <summary>A throwaway server of the caller's own, which it may stop and start again.</summary>
    /// <param name="durable">
    /// Keep PostgreSQL's fsync on (the benchmark measures durable work). Tests turn it off: their data is thrown away,
    /// and a crash of the server process (not of the machine) loses nothing either way.
    /// </param>
    /// <param name="settings">
    /// Extra server settings, each <c>name=value</c> (no spaces), passed as <c>-c</c> options at every start: the
    /// benchmark loads pg_stat_statements this way. None by default.
    /// </param>
    public static async Task<PostgresServer> StartOwnAsync(bool durable = false, IReadOnlyList<string>? settings = null)
    {
        if (settings?.FirstOrDefault(s => !s.Contains('=', StringComparison.Ordinal) || s.Any(char.IsWhiteSpace)) is { } invalid)
        {
            throw new ArgumentException($"A server setting is name=value with no spaces, not '{invalid}'.", nameof(settings));
        }

        var binaries = FindBinaries();
        var directory = Path.Combine(durable ? Path.GetTempPath() : ThrowawayDataRoot(), "tasksystem-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        var port = TaskSystem.TestSupport.LoopbackPort.Free();
        try
        {
            var asRoot = Environment.UserName == "root";
            if (asRoot)
            {
                // initdb refuses to run as root: the server runs as the postgres user, which must own its folder.
                await RunAsync("chown", ["postgres:postgres", directory]);
            }

            await RunAsync(asRoot, Path.Combine(binaries, "initdb"), ["-D", Path.Combine(directory, "data"), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]);
            var server = new PostgresServer($"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Timeout=5", directory, binaries) { Port = port, AsRoot = asRoot, Durable = durable, Settings = settings ?? [] };
            await server.StartServerAsync();
            StartWatchdog(server);
            return server;
        }
        catch
        {
            TryDelete(directory);
            throw;
        }
    }

    /// <summary>
    /// Where a throwaway server keeps its data: in memory (/dev/shm) when the machine has it. Each test's database
    /// is a few hundred files, and creating files on a disk's file system that has just deleted many (as a test run
    /// does) cost the server more CPU than the tests' own queries; nothing of a throwaway server needs to be on disk.
    /// </summary>
    private static string ThrowawayDataRoot()
    {
        const string Memory = "/dev/shm";
        try
        {
            var probe = Path.Combine(Memory, "tasksystem-probe-" + Guid.NewGuid().ToString("N")[..12]);
            Directory.CreateDirectory(probe);
            Directory.Delete(probe);
            return Memory;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return Path.GetTempPath();
        }
    }

    /// <summary>The port of a server this process started.</summary>
    public int Port { get; private init; }

    private bool AsRoot { get; init; }

    private bool Durable { get; init; }

    private IReadOnlyList<string> Settings { get; init; } = [];

    /// <summary>
    /// Creates a database and returns a connection string to it: an empty one, or a copy of <paramref name="template"/>
    /// (a database of this server that no session is connected to).
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string? template = null)
    {
        var name = "tasksystem_test_" + Guid.NewGuid().ToString("N")[..16];
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();
            var copy = template is null ? "" : $" TEMPLATE {template} STRATEGY FILE_COPY";
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}{copy}", connection);
            await command.ExecuteNonQueryAsync();
        }

        lock (_databases)
        {
            _databases.Add(name);
        }

        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>Starts (again) a server this process owns.</summary>
    public Task StartServerAsync()
    {
        var directory = _directory ?? throw new InvalidOperationException("Only a server started by the tests can be started and stopped.");
        var options = $"-p {Port} -k {directory} -c listen_addresses=127.0.0.1 -c max_connections=400"
            + (Durable ? "" : " -c fsync=off -c full_page_writes=off")
            + string.Concat(Settings.Select(setting => " -c " + setting));
        return RunAsync(AsRoot, Path.Combine(_binaries!, "pg_ctl"),
            ["-D", Path.Combine(directory, "data"), "-o", options, "-l", Path.Combine(directory, "server.log"), "-w", "-t", "60", "start"]);
    }

    /// <summary>Stops a server this process owns: <c>fast</c> disconnects every client and shuts down cleanly; <c>immediate</c> is a crash.</summary>
    public Task StopServerAsync(string mode = "fast")
    {
        var directory = _directory ?? throw new InvalidOperationException("Only a server started by the tests can be started and stopped.");
        return RunAsync(AsRoot, Path.Combine(_binaries!, "pg_ctl"), ["-D", Path.Combine(directory, "data"), "-m", mode, "-w", "-t", "60", "stop"]);
    }

    public async ValueTask DisposeAsync()
    {
        if (_directory is null)
        {
            await DropDatabasesAsync();
            return;
        }

        try
        {
            await StopServerAsync("immediate");
        }
        catch (Exception exception) when (exception is InvalidOperationException or TimeoutException)
        {
            // Already stopped.
        }

        TryDelete(_directory);
    }

    private static async Task<PostgresServer> CreateSharedAsync()
    {
        PostgresServer server;
        if (Environment.GetEnvironmentVariable("TASKSYSTEM_TEST_POSTGRES") is { Length: > 0 } existing)
        {
            server = new PostgresServer(existing, directory: null, binaries: null);
        }
        else
        {
            server = await StartOwnAsync();
        }

        return server;
    }

    private async Task DropDatabasesAsync()
    {
        string[] names;
        lock (_databases)
        {
            names = [.. _databases];
            _databases.Clear();
        }

        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        foreach (var name in names)
        {
            await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
            await command.ExecuteNonQueryAsync();
        }
    }

    private static string FindBinaries()
    {
        if (Environment.GetEnvironmentVariable("TASKSYSTEM_PG_BIN") is { Length: > 0 } configured)
        {
            return File.Exists(Path.Combine(configured, "pg_ctl"))
                ? configured
                : throw new InvalidOperationException($"TASKSYSTEM_PG_BIN is '{configured}', but it has no pg_ctl.");
        }

        const string Standard = "/usr/lib/postgresql";
        var installed = Directory.Exists(Standard)
            ? Directory.GetDirectories(Standard).Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "pg_ctl")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0).FirstOrDefault()
            : null;
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').FirstOrDefault(d => d.Length > 0 && File.Exists(Path.Combine(d, "pg_ctl")));
        return installed ?? onPath ?? throw new InvalidOperationException(
            "The tests need PostgreSQL server binaries (initdb, pg_ctl) and found none under /usr/lib/postgresql or on the PATH. " +
            "Install PostgreSQL (Debian: apt-get install postgresql), set TASKSYSTEM_PG_BIN to their folder, " +
            "or set TASKSYSTEM_TEST_POSTGRES to the connection string of a server to use.");
    }

    /// <summary>
    /// The test host is killed at the end of a run before exit handlers can finish, and may crash: a small shell
    /// process outlives it, waits for it to end, then stops the server and deletes its folder.
    /// </summary>
    private static void StartWatchdog(PostgresServer server)
    {
        var pgCtl = $"{server._binaries}/pg_ctl -D {server._directory}/data -m immediate -w stop";
        var stop = server.AsRoot ? $"runuser -u postgres -- {pgCtl}" : pgCtl;
        // tail waits in one process (a loop of `sleep` would start a process twice a second for the whole run).
        var script = $"tail --pid={Environment.ProcessId} -f /dev/null; {stop} >/dev/null 2>&1; rm -rf {server._directory}";

        // Detached (a new session, reparented once the outer shell exits) so that killing the test host's process
        // tree does not kill the watchdog with it.
        var start = new System.Diagnostics.ProcessStartInfo("sh", ["-c", $"setsid sh -c '{script}' </dev/null >/dev/null 2>&1 &"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = false,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        using var launcher = System.Diagnostics.Process.Start(start);
        launcher?.WaitForExit(5_000);
    }


    private static Task RunAsync(bool asPostgresUser, string program, string[] arguments) =>
        asPostgresUser ? RunAsync("runuser", ["-u", "postgres", "--", program, .. arguments]) : RunAsync(program, arguments);

    private static async Task RunAsync(string program, string[] arguments)
    {
        var (exitCode, output) = await ProcessRunner.RunAsync(program, arguments, CommandTimeout);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"PostgreSQL for the tests: '{program} {string.Join(' ', arguments)}' exited with {exitCode}:\n{output}");
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // The OS cleans its temporary folder.
        }
    }
}
