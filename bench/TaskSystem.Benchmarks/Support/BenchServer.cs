using System.Net;
using Microsoft.Extensions.DependencyInjection;
using TaskSystem.Server;

namespace TaskSystem.Benchmarks.Support;

/// <summary>
/// The real server pipeline in this process, on a new SQLite database in the run's scratch folder, listening on a free
/// loopback port: what the HTTP workloads load. Warnings only in its log, so that the figures are not its logging.
/// </summary>
internal sealed class BenchServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BenchServer(WebApplication app, int port)
    {
        _app = app;
        Endpoint = new IPEndPoint(IPAddress.Loopback, port);
        Address = new Uri($"http://127.0.0.1:{port}");
    }

    /// <summary>Where a load generator connects.</summary>
    public IPEndPoint Endpoint { get; }

    /// <summary>The base address for an <see cref="HttpClient"/>.</summary>
    public Uri Address { get; }

    public TaskManager Manager => _app.Services.GetRequiredService<TaskManager>();

    /// <param name="context">The run, for a scratch folder.</param>
    /// <param name="settings">More command-line settings (<c>--TaskSystem:ExternalTypes:0</c>, <c>type</c>...).</param>
    /// <param name="mapExtra">Extra endpoints on the same pipeline (a ceiling to compare with).</param>
    public static async Task<BenchServer> StartAsync(BenchContext context, string[]? settings = null, Action<WebApplication>? mapExtra = null)
    {
        var port = TaskSystem.TestSupport.LoopbackPort.Free();
        var app = ServerApplication.Create(
            [
                "--urls", $"http://127.0.0.1:{port}",
                "--TaskSystem:ConnectionString", $"Data Source={Path.Combine(context.NewFolder(), "tasks.db")}",
                "--Logging:LogLevel:Default", "Warning",
                .. settings ?? [],
            ],
            mapExtra: mapExtra);
        await app.StartAsync();
        return new BenchServer(app, port);
    }

    /// <summary>A client with its own pool of keep-alive connections, as a separate process would have.</summary>
    public HttpClient NewClient() => new(new SocketsHttpHandler { MaxConnectionsPerServer = 32 }) { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(60) };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
