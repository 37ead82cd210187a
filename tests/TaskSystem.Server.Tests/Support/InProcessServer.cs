using Microsoft.AspNetCore.Builder;

namespace TaskSystem.Server.Tests.Support;

/// <summary>
/// The server as its own code builds it (<see cref="ServerApplication.Create"/>, what its Program runs), with the
/// settings <see cref="ServerProcess"/> would give the process, listening with Kestrel on a loopback port of this
/// process: real HTTP over a real socket, for tests of what the server answers (the typed client, the tool, the
/// sample workers, the API's contract). A child process costs a .NET start-up, seconds of CPU for JIT and type
/// loading that this one shares with every test. Tests of the process itself (signals, kill -9, start-up failures,
/// a command run as the docs write it) use <see cref="ServerProcess"/>.
/// </summary>
public sealed class InProcessServer : IAsyncDisposable
{
    /// <summary>
    /// How long a stop waits for running tasks before it cancels them (by default the server waits its ShutdownTimeout,
    /// 10 s, then its StopGracePeriod, 5 s more).
    /// </summary>
    private static readonly TimeSpan HurriedStop = TimeSpan.FromMilliseconds(500);

    private readonly WebApplication _app;

    private InProcessServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>Where the tests reach the server.</summary>
    public Uri Address { get; }

    public int Port => Address.Port;

    /// <summary>A client whose base address is the server.</summary>
    public HttpClient Client { get; }

    /// <summary>Starts the server on a port Kestrel picks and returns once it listens, its engine started.</summary>
    /// <param name="settings">Command-line settings, as for <see cref="ServerProcess.StartAsync(string[])"/>; they override the quiet-log default.</param>
    public static async Task<InProcessServer> StartAsync(params string[] settings)
    {
        // As ServerProcess runs it: the Production environment and warnings only in the log. Port 0 lets Kestrel pick
        // a free port itself, so that no other test can take it between the choice and the bind.
        var app = ServerApplication.Create(
        [
            "--urls", "http://127.0.0.1:0",
            "--environment", "Production",
            "--Logging:LogLevel:Default", "Warning",
            .. settings,
        ]);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        // Once started, the addresses are the ones bound: the port Kestrel picked.
        return new InProcessServer(app, new Uri(app.Urls.Single()));
    }

    /// <summary>
    /// Stops it without waiting out the shutdown timeouts for tasks still running: the test is over and its data is
    /// thrown away, as <see cref="ServerProcess"/> kills its process.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        using (var hurry = new CancellationTokenSource(HurriedStop))
        {
            await _app.StopAsync(hurry.Token);
        }

        await _app.DisposeAsync();
    }
}
