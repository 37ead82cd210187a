using Npgsql;

namespace TaskSystem.Benchmarks.Support;

/// <summary>
/// A throwaway PostgreSQL server for the PostgreSQL workloads: the one the tests use (TASKSYSTEM_PG_BIN or
/// /usr/lib/postgresql), with fsync on, a database per subject, started once and shared by every workload of the
/// run. It loads pg_stat_statements (the tests' servers do not), so that the e2e workload can count what a task costs
/// the server.
/// </summary>
internal sealed class PostgresServer : IAsyncDisposable
{
    private static TaskSystem.TestSupport.PostgresServer? _server;
    private static bool _statements;

    private PostgresServer()
    {
    }

    /// <summary>No server binaries here and no server named: the PostgreSQL lines are left out of the report.</summary>
    public static bool Unavailable => !TaskSystem.TestSupport.PostgresServer.CanStart;

    /// <summary>Connects as a superuser to the <c>postgres</c> database (where pg_stat_statements is installed).</summary>
    public static string AdminConnectionString =>
        (_server ?? throw new InvalidOperationException("Start the server first (TryStartAsync).")).AdminConnectionString;

    /// <summary>True when pg_stat_statements was loaded and its view created.</summary>
    public static bool HasStatementStatistics => _statements;

    public static async Task<PostgresServer?> TryStartAsync()
    {
        if (_server is null)
        {
            try
            {
                _server = await TaskSystem.TestSupport.PostgresServer.StartOwnAsync(durable: true, ["shared_preload_libraries=pg_stat_statements"]);
            }
            catch (InvalidOperationException exception)
            {
                Console.WriteLine($"  (PostgreSQL did not start with pg_stat_statements loaded, started without it: {exception.Message.Split('\n')[0]})");
                _server = await TaskSystem.TestSupport.PostgresServer.StartOwnAsync(durable: true);
                return new PostgresServer();
            }

            try
            {
                await using var connection = new NpgsqlConnection(_server.AdminConnectionString);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", connection);
                await command.ExecuteNonQueryAsync();
                _statements = true;
            }
            catch (PostgresException exception)
            {
                Console.WriteLine($"  (pg_stat_statements is not available: {exception.MessageText}; statements are not counted)");
            }
        }

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
