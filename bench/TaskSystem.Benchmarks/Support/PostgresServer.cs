namespace TaskSystem.Benchmarks.Support;

/// <summary>
/// A throwaway PostgreSQL server for the PostgreSQL workloads: the one the tests use (TASKSYSTEM_PG_BIN or
/// /usr/lib/postgresql, or TASKSYSTEM_TEST_POSTGRES for an existing server), with fsync on, a database per subject.
/// </summary>
internal sealed class PostgresServer : IAsyncDisposable
{
    private static TaskSystem.TestSupport.PostgresServer? _server;

    private PostgresServer()
    {
    }

    /// <summary>No server binaries here and no server named: the PostgreSQL lines are left out of the report.</summary>
    public static bool Unavailable => !TaskSystem.TestSupport.PostgresServer.CanStart;

    public static async Task<PostgresServer?> TryStartAsync()
    {
        _server ??= await TaskSystem.TestSupport.PostgresServer.StartOwnAsync(durable: true);
        return new PostgresServer();
    }

    /// <summary>A fresh database on the server (the benchmark's callers are synchronous here).</summary>
    public static string NewDatabase() =>
        (_server ?? throw new InvalidOperationException("Start the server first (TryStartAsync)."))
            .CreateDatabaseAsync().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
            _server = null;
        }
    }
}
