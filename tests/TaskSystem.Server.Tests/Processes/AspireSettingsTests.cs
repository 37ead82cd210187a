using System.Net;
using Npgsql;

namespace TaskSystem.Server.Tests.Processes;

/// <summary>
/// What an Aspire AppHost gives the server: <c>ConnectionStrings__tasksystem</c> (from <c>WithReference(database)</c>)
/// selects that PostgreSQL database, and the default probe paths <c>/health</c> and <c>/alive</c> answer without a key.
/// </summary>
public sealed class AspireSettingsTests
{
    private const string Key = "aspire-test-key-0123456789abcdef";

    [Fact]
    public async Task ConnectionStringsTasksystem_StoresTasksInThatPostgresDatabase_AndTheAspireProbesAnswer()
    {
        var connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync();
        var address = ServerProcess.FreeAddress();
        var environment = new Dictionary<string, string>
        {
            // As an AppHost runs a project: its address in ASPNETCORE_URLS, the database's connection string, a key.
            ["ASPNETCORE_URLS"] = address.ToString().TrimEnd('/'),
            ["ConnectionStrings__tasksystem"] = connectionString,
            ["TaskSystem__ApiKeys__0"] = Key,
        };
        await using var server = await ServerProcess.StartWithEnvironmentAsync(address, environment, "aspire-node");

        using var enqueue = new HttpRequestMessage(HttpMethod.Post, "/tasks") { Content = new StringContent("""{"type": "demo", "runAt": "2099-01-01T00:00:00Z"}""") };
        enqueue.Headers.Authorization = new("Bearer", Key);
        using var created = await server.Client.SendAsync(enqueue);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var count = new NpgsqlCommand("SELECT count(*) FROM tasksystem_tasks", connection);
            Assert.Equal(1L, (long)(await count.ExecuteScalarAsync())!);
        }

        foreach (var path in new[] { "/health", "/alive" })
        {
            using var probe = await server.Client.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(probe.StatusCode == HttpStatusCode.OK, $"{path}: {(int)probe.StatusCode}");
        }
    }
}
