using System.Diagnostics;
using System.Globalization;

namespace TaskSystem.TestSupport;

/// <summary>
/// The real server (TaskSystem.Server.dll, built beside the tests or the benchmark that reference it) as a child
/// process on a loopback port: what a user runs, stopped with real signals, its console output kept. The server
/// tests, the cluster tests, the dashboard tests and the benchmark all start it through this one class.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    /// <summary>
    /// How long a start may take before the test fails: a cold start takes about a second on an idle machine, and many
    /// times that while the whole suite, builds included, shares two cores. It only bounds a failure.
    /// </summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    /// <summary>The first pause between probes of a starting server; each next one is half as long again, up to <see cref="LastStartPoll"/>.</summary>
    private static readonly TimeSpan FirstStartPoll = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// The longest pause between probes: a start that takes long (a loaded machine) is probed 20 times a second, not
    /// 200 (each refused probe costs the test process an exception), and a quick one is seen within milliseconds.
    /// </summary>
    private static readonly TimeSpan LastStartPoll = TimeSpan.FromMilliseconds(50);

    private readonly Process _process;
    private readonly List<string> _output = [];
    private long _launchedAt;

    private ServerProcess(Process process, Uri address, string name)
    {
        _process = process;
        Address = address;
        Name = name;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>Where the tests reach the server.</summary>
    public Uri Address { get; }

    public int Port => Address.Port;

    /// <summary>The node name it was given (<c>--TaskSystem:NodeName</c>), or "server".</summary>
    public string Name { get; }

    /// <summary>A client whose base address is the server.</summary>
    public HttpClient Client { get; }

    /// <summary>The same client as <see cref="Client"/>.</summary>
    public HttpClient Http => Client;

    /// <summary>Everything it wrote to stdout and stderr so far.</summary>
    public string Output => string.Join('\n', OutputLines);

    /// <summary>Its output so far, one line each.</summary>
    public IReadOnlyList<string> OutputLines
    {
        get
        {
            lock (_output)
            {
                return [.. _output];
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public int ProcessId => _process.Id;

    /// <summary>From launch until the probe it was started with answered 200 (zero for <see cref="Launch(string[])"/>).</summary>
    public TimeSpan StartUp { get; private set; }

    /// <summary>Starts the server on a free loopback port and waits until it answers <c>/health/live</c>.</summary>
    public static Task<ServerProcess> StartAsync(params string[] settings) => StartAsync(FreeAddress(), settings);

    /// <summary>Starts the server at <paramref name="address"/> (to restart one where clients expect it) and waits until it answers.</summary>
    public static Task<ServerProcess> StartAsync(Uri address, params string[] settings) => Launch(address, listen: null, settings).WaitUntilAsync(Live);

    /// <summary>Starts the server listening on <paramref name="host"/> (0.0.0.0, say), reached through 127.0.0.1.</summary>
    public static Task<ServerProcess> StartOnAsync(string host, params string[] settings) => LaunchOn(host, settings).WaitUntilAsync(Live);

    /// <summary>Starts the server and waits until <c>/health/ready</c> answers 200: it has migrated, recovered and takes work.</summary>
    public static Task<ServerProcess> StartReadyAsync(params string[] settings) => Launch(FreeAddress(), listen: null, settings).WaitUntilAsync(Ready);

    /// <summary>Starts the server without waiting for it (for start-up failures).</summary>
    public static ServerProcess Launch(params string[] settings) => Launch(FreeAddress(), listen: null, settings);

    /// <summary>Starts the server listening on <paramref name="host"/> without waiting for it.</summary>
    public static ServerProcess LaunchOn(string host, params string[] settings)
    {
        var address = FreeAddress();
        return Launch(address, host == "127.0.0.1" ? null : $"http://{host}:{address.Port}", settings);
    }

    /// <summary>
    /// Starts the server with exactly <paramref name="environment"/> as its settings (no command line, no defaults of
    /// these tests: what a container with that environment runs), reached at <paramref name="address"/>, and waits
    /// until it answers <c>/health/ready</c>. Settings the test run itself inherited are removed first.
    /// </summary>
    public static Task<ServerProcess> StartWithEnvironmentAsync(Uri address, IReadOnlyDictionary<string, string> environment, string name) =>
        Launch(address, listen: null, [], environment, name).WaitUntilAsync(Ready);

    /// <summary>Environment variables a server reads as settings: none may leak from the test run into an exact environment.</summary>
    public static bool IsSetting(string variable) =>
        variable.StartsWith("TaskSystem__", StringComparison.OrdinalIgnoreCase)
        || variable.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase)
        || variable.StartsWith("Logging__", StringComparison.OrdinalIgnoreCase)
        || variable.StartsWith("Kestrel__", StringComparison.OrdinalIgnoreCase)
        || variable is "URLS" or "HTTP_PORTS" or "HTTPS_PORTS" or "DOTNET_ENVIRONMENT";

    /// <summary>An address on a loopback port that nothing listens on now.</summary>
    public static Uri FreeAddress() => new($"http://127.0.0.1:{LoopbackPort.Free()}");

    /// <summary>SIGKILL: no shutdown code runs, as in a crash or an OOM kill.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as docker stop sends, then waits for the exit.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        await SignalAsync("TERM");
        return await WaitForExitAsync(timeout);
    }

    /// <summary>SIGTERM, then waits for the graceful exit however long it takes.</summary>
    public Task<int> StopAsync() => TerminateAsync(Timeout.InfiniteTimeSpan);

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(deadline.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private const string Live = "/health/live";

    private const string Ready = "/health/ready";

    /// <param name="address">Where the tests reach the server.</param>
    /// <param name="listen">What the server listens on, when not <paramref name="address"/> itself.</param>
    /// <param name="settings">Command-line settings; they override the defaults given here (quiet logs).</param>
    private static ServerProcess Launch(Uri address, string? listen, string[] settings) => Launch(address, listen, settings, environment: null, name: null);

    /// <summary>As above; with <c>environment</c> set, that is the server's only settings: no --urls and no quiet-log default are added.</summary>
    private static ServerProcess Launch(Uri address, string? listen, string[] settings, IReadOnlyDictionary<string, string>? environment, string? name)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "TaskSystem.Server.dll"));
        if (environment is null)
        {
            start.ArgumentList.Add("--urls");
            start.ArgumentList.Add(listen ?? address.ToString().TrimEnd('/'));
            foreach (var setting in settings)
            {
                start.ArgumentList.Add(setting);
            }

            // Environment settings rank below command-line ones, so a caller's --Logging:LogLevel:Default wins.
            start.Environment["Logging__LogLevel__Default"] = "Warning";
            start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        }
        else
        {
            foreach (var inherited in start.Environment.Keys.Where(IsSetting).ToList())
            {
                start.Environment.Remove(inherited);
            }

            foreach (var (variable, value) in environment)
            {
                start.Environment[variable] = value;
            }
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var server = new ServerProcess(process, address, name ?? NodeName(settings) ?? "server");
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        server._launchedAt = Stopwatch.GetTimestamp();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    private static string? NodeName(string[] settings)
    {
        var at = Array.FindIndex(settings, s => s is "--TaskSystem:NodeName" or "--TaskSystem__NodeName");
        return at >= 0 && at + 1 < settings.Length ? settings[at + 1] : null;
    }

    /// <summary>Polls <paramref name="probe"/> until it answers 200; fails with the server's output if it exits or takes too long.</summary>
    private async Task<ServerProcess> WaitUntilAsync(string probe)
    {
        try
        {
            var pause = FirstStartPoll;
            while (true)
            {
                if (_process.HasExited)
                {
                    throw new InvalidOperationException($"The server ({Name}) exited with code {_process.ExitCode} at start. Its output:\n{Output}");
                }

                try
                {
                    using var response = await Client.GetAsync(new Uri(probe, UriKind.Relative));
                    if (response.IsSuccessStatusCode)
                    {
                        StartUp = Stopwatch.GetElapsedTime(_launchedAt);
                        return this;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }

                if (Stopwatch.GetElapsedTime(_launchedAt) > StartTimeout)
                {
                    throw new TimeoutException($"The server ({Name}) did not answer {probe} within {StartTimeout}. Its output:\n{Output}");
                }

                await Task.Delay(pause);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 3 / 2, LastStartPoll.Ticks));
            }
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    private async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {_process.Id} failed with exit code {kill.ExitCode}");
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.Add(line);
            }
        }
    }
}
