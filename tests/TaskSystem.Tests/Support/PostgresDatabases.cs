using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using TaskSystem.PostgreSql;
using TaskSystem.TestSupport;

namespace TaskSystem.Tests.Support;

/// <summary>
/// A fresh PostgreSQL database per test, on the server the whole run shares. It is a copy of one migrated once per
/// run: copying a database's files costs the server a fraction of creating each table, index and function again.
/// </summary>
public static class PostgresDatabases
{
    private static readonly Lazy<Task<string>> MigratedTemplate = new(CreateMigratedTemplateAsync);

    /// <summary>A database with TaskSystem's schema in place and no rows.</summary>
    public static async Task<string> CreateAsync() => await (await PostgresServer.SharedAsync()).CreateDatabaseAsync(await MigratedTemplate.Value);

    /// <summary>An empty database, for the tests of migration itself.</summary>
    public static async Task<string> CreateEmptyAsync() => await (await PostgresServer.SharedAsync()).CreateDatabaseAsync();

    private static async Task<string> CreateMigratedTemplateAsync()
    {
        var connectionString = await CreateEmptyAsync();
        await using (var store = new PostgresTaskStore(connectionString, 1, "template", TimeProvider.System, NullLogger<PostgresTaskStore>.Instance))
        {
            await store.MigrateAsync(CancellationToken.None);
        }

        return new NpgsqlConnectionStringBuilder(connectionString).Database!;
    }
}
