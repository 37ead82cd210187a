namespace TaskSystem.Dashboard.Tests.Support;

/// <summary>
/// The real server as a child process that wants an API key (<see cref="Key"/>) for everything but its files, on a
/// database of its own, shared by the tests of a collection that need one: each start of a server costs about a
/// CPU-second and a half, and what these tests check (files open, data refused without the key, the pages asking for
/// it) does not depend on what ran before. Started on first use, so that a run without those tests starts none.
/// </summary>
public sealed class KeyedServer : IAsyncLifetime
{
    public const string Key = "dashboard-test-key-0123456789";

    private readonly TempDirectory _directory = new();
    private readonly Lazy<Task<ServerProcess>> _process;

    public KeyedServer() =>
        _process = new(() => ServerProcess.StartAsync(
            "--TaskSystem:ConnectionString", _directory.SqliteConnectionString, "--TaskSystem:ApiKeys:0", Key));

    /// <summary>The running server, started by the first test that asks.</summary>
    public Task<ServerProcess> StartedAsync() => _process.Value;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_process.IsValueCreated && _process.Value.IsCompletedSuccessfully)
        {
            await _process.Value.Result.DisposeAsync();
        }

        _directory.Dispose();
    }
}
