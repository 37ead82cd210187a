using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using TaskSystem.Tests.Support;

namespace TaskSystem.Server.Tests.Support;

/// <summary>
/// The real server as a child process (dotnet TaskSystem.Server.dll) on a loopback port: what a user runs,
/// killed with real signals.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServerProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri Address { get; }

    public HttpClient Client { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts the server on a free loopback port and waits until it answers /health/live.</summary>
    public static Task<ServerProcess> StartAsync(params string[] settings) => StartAsync(FreeAddress(), settings);

    /// <summary>Starts the server at <paramref name="address"/> (to restart one where clients expect it) and waits until it answers.</summary>
    public static Task<ServerProcess> StartAsync(Uri address, params string[] settings) => WaitLiveAsync(Launch(address, listen: null, settings));

    /// <summary>Starts the server listening on <paramref name="host"/> (0.0.0.0, say), reached through 127.0.0.1.</summary>
    public static Task<ServerProcess> StartOnAsync(string host, params string[] settings) => WaitLiveAsync(LaunchOn(host, settings));

    private static async Task<ServerProcess> WaitLiveAsync(ServerProcess server)
    {
        try
        {
            await Eventually.Until(() => server.IsLiveAsync(), live => live, TimeSpan.FromSeconds(30), "the server to answer /health/live");
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw new InvalidOperationException("The server did not start. Its output:\n" + server.Output);
        }
    }

    /// <summary>Starts the server without waiting for it (for start-up failures).</summary>
    public static ServerProcess Launch(params string[] settings) => Launch(FreeAddress(), listen: null, settings);

    /// <summary>Starts the server listening on <paramref name="host"/> without waiting for it.</summary>
    public static ServerProcess LaunchOn(string host, params string[] settings)
    {
        var address = FreeAddress();
        return Launch(address, host == "127.0.0.1" ? null : $"http://{host}:{address.Port}", settings);
    }

    /// <param name="address">Where the tests reach the server.</param>
    /// <param name="listen">What the server listens on, when not <paramref name="address"/> itself.</param>
    /// <param name="settings">Command-line settings.</param>
    private static ServerProcess Launch(Uri address, string? listen, string[] settings)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "TaskSystem.Server.dll"));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(listen ?? address.ToString().TrimEnd('/'));
        foreach (var setting in settings)
        {
            start.ArgumentList.Add(setting);
        }

        start.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var server = new ServerProcess(process, address);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    private async Task<bool> IsLiveAsync()
    {
        if (_process.HasExited)
        {
            throw new InvalidOperationException($"The server exited with code {_process.ExitCode}:\n{Output}");
        }

        try
        {
            using var response = await Client.GetAsync(new Uri("/health/live", UriKind.Relative));
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>SIGKILL: no shutdown code runs, as in a crash or an OOM kill.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as docker stop sends, then waits for the exit.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
            if (kill.ExitCode != 0)
            {
                throw new InvalidOperationException($"kill -TERM {_process.Id} failed with exit code {kill.ExitCode}");
            }
        }

        using var deadline = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(deadline.Token);
        return _process.ExitCode;
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(deadline.Token);
        return _process.ExitCode;
    }

    /// <summary>An address on a loopback port that nothing listens on now.</summary>
    public static Uri FreeAddress() => new($"http://127.0.0.1:{TaskSystem.TestSupport.LoopbackPort.Free()}");

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
}
