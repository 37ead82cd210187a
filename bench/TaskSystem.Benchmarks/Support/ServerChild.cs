using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace TaskSystem.Benchmarks.Support;

/// <summary>The real server (TaskSystem.Server.dll) as a child process on a loopback port.</summary>
internal sealed class ServerChild : IAsyncDisposable
{
    private readonly Process _process;

    private ServerChild(Process process, Uri address)
    {
        _process = process;
        Address = address;
        Client = new HttpClient { BaseAddress = address };
    }

    public Uri Address { get; }

    public HttpClient Client { get; }

    public int ProcessId => _process.Id;

    /// <summary>Starts the server and returns once /health/ready answers, with the time that took.</summary>
    public static async Task<(ServerChild Server, TimeSpan StartUp)> StartAsync(params string[] settings)
    {
        var port = TaskSystem.TestSupport.LoopbackPort.Free();
        var address = new Uri($"http://127.0.0.1:{port}");
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "TaskSystem.Server.dll"));
        foreach (var argument in new[] { "--urls", address.ToString().TrimEnd('/'), "--Logging:LogLevel:Default", "Warning" }.Concat(settings))
        {
            start.ArgumentList.Add(argument);
        }

        var clock = Stopwatch.StartNew();
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerChild(process, address);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The server exited with code {process.ExitCode} at start.");
            }

            try
            {
                using var response = await server.Client.GetAsync(new Uri("/health/ready", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    return (server, clock.Elapsed);
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(5);
        }
    }

    /// <summary>SIGTERM, then waits for the graceful exit.</summary>
    public async Task StopAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        await _process.WaitForExitAsync();
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
}
