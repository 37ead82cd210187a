using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using TaskSystem.Cluster.Tests.Support;
using TaskSystem.TestSupport;
using static TaskSystem.Cluster.Tests.Support.TaskApi;

namespace TaskSystem.Cluster.Tests;

/// <summary>
/// PostgreSQL out of disk space, as the real server reports it: every write of the tasks table fails with SQLSTATE
/// 53100 (disk_full), raised by PostgreSQL itself from a trigger so the test runs anywhere. The node answers 503 with
/// Retry-After (never 500), and needs nothing to recover once writes succeed again. A real full volume under a
/// tablespace (ERROR 53100, the server stays up) and under the WAL (PANIC, then the server is down until restarted)
/// were checked by hand; docs/cluster.md says what happens.
/// </summary>
public sealed class PostgresDiskFullTests : IAsyncLifetime
{
    private string _database = null!;
    private ServerProcess _node = null!;

    public async Task InitializeAsync()
    {
        _database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync();
        _node = await ServerNodeProcess.StartAsync("disk1", _database);
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task DiskFull_PostAnswers503WithRetryAfter_ReadsStillWork_AndTheNodeResumesByItselfWhenSpaceReturns()
    {
        var before = await EnqueueDemoAsync(_node.Http, durationMs: 1);
        await EventuallyAsync(() => GetAsync(_node.Http, before), t => t.State == "succeeded", TimeSpan.FromSeconds(15), "a task runs before the disk fills");

        await ExecuteAsync("""
            CREATE FUNCTION test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full', HINT = 'Check free disk space.';
            END $$;
            CREATE TRIGGER test_disk_full BEFORE INSERT OR UPDATE ON tasksystem_tasks FOR EACH ROW EXECUTE FUNCTION test_disk_full();
            """);

        for (var i = 0; i < 5; i++)
        {
            using var refused = await _node.Http.PostAsJsonAsync("/tasks", new { type = "demo", payload = new { durationMs = 1 } });
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero, "a 503 says when to try again");
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.Equal(503, (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetInt32());
        }

        Assert.Equal("succeeded", (await GetAsync(_node.Http, before)).State);

        await ExecuteAsync("DROP TRIGGER test_disk_full ON tasksystem_tasks");

        var after = await EventuallyAsync(
            async () =>
            {
                using var response = await _node.Http.PostAsJsonAsync("/tasks", new { type = "demo", payload = new { durationMs = 1 } });
                return response.StatusCode == HttpStatusCode.Created ? (await response.Content.ReadFromJsonAsync<TaskView>(JsonSerializerOptions.Web))!.Id : 0;
            },
            id => id > 0, TimeSpan.FromSeconds(15), "the node accepts tasks again");
        await EventuallyAsync(() => GetAsync(_node.Http, after), t => t.State == "succeeded", TimeSpan.FromSeconds(15), "the node runs tasks again");
        Assert.False(_node.HasExited);
        Assert.DoesNotContain(_node.OutputLines, line => line.Contains("Unhandled error in", StringComparison.Ordinal));
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
