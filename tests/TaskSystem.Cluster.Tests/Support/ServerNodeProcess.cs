using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace TaskSystem.Cluster.Tests.Support;

/// <summary>
/// One TaskSystem server (the real TaskSystem.Server.dll, built next to these tests) running as a child process on a
/// loopback port, with its console output kept for the test to read.
/// </summary>
public sealed class ServerNodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ServerNodeProcess(string name, int port, Process process)
    {
        Name = name;
        Port = port;
        _process = process;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Name { get; }

    public int Port { get; }

    public HttpClient Http { get; }

    public bool HasExited => _process.HasExited;

    public IEnumerable<string> Output => _output;

    /// <summary>Starts a node and waits until it answers as ready.</summary>
    public static async Task<ServerNodeProcess> StartAsync(string name, string connectionString, params string[] settings)
    {
        var port = TaskSystem.TestSupport.LoopbackPort.Free();
        var serverDll = Path.Combine(AppContext.BaseDirectory, "TaskSystem.Server.dll");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        string[] arguments =
        [
            serverDll,
            "--urls", $"http://127.0.0.1:{port}",
            "--TaskSystem:Provider", "postgres",
            "--TaskSystem:ConnectionString", connectionString,
            "--TaskSystem:NodeName", name,
            "--Logging:LogLevel:Default", "Information",
            "--Logging:LogLevel:Microsoft.AspNetCore", "Warning",
            "--Logging:Console:FormatterName", "simple",
            "--Logging:Console:FormatterOptions:SingleLine", "true",
            .. settings,
        ];
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var node = new ServerNodeProcess(name, port, Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start."));
        await node.WaitReadyAsync();
        return node;
    }

    private async Task WaitReadyAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"Node {Name} exited with {_process.ExitCode} at start:\n{string.Join('\n', _output)}");
            }

            try
            {
                using var response = await Http.GetAsync("/health/ready");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"Node {Name} was not ready within 60 s:\n{string.Join('\n', _output)}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>SIGKILL: the process ends at once, with no shutdown of any kind.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        Http.Dispose();
        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }

}
