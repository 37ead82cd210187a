using TaskSystem.TestSupport;

namespace TaskSystem.Tests.Support;

/// <summary>A fresh PostgreSQL database per test, on the server the whole run shares.</summary>
public static class PostgresDatabases
{
    public static async Task<string> CreateAsync() => await (await PostgresServer.SharedAsync()).CreateDatabaseAsync();
}
