using System.Net;
using System.Net.Http.Json;
using TaskSystem.Server.Tests.Support;

namespace TaskSystem.Server.Tests.Api;

/// <summary>Continuations over HTTP: <c>after</c> and <c>afterPolicy</c> in the envelope, the awaiting state, bad input as 400s; on both stores.</summary>
/// <remarks>
/// The tests of a store share one server (a host and its database cost far more than a test): each makes the tasks
/// it reads and names them by id, and the bad requests are refused whichever tasks exist.
/// </remarks>
public abstract class ContinuationsApiTests(ContinuationsApiTests.Server server)
{
    private readonly HttpClient _client = server.Client;

    /// <summary>The server a class of these tests shares, on that class's store.</summary>
    public abstract class Server : IAsyncLifetime
    {
        private readonly ApiFactory _factory = new();

        public HttpClient Client { get; private set; } = null!;

        /// <summary>Points the server at this class's store.</summary>
        protected abstract Task ConfigureStoreAsync(ApiFactory factory);

        public async Task InitializeAsync()
        {
            _factory.Settings["TaskSystem:MaxParents"] = "3";
            await ConfigureStoreAsync(_factory);
            Client = _factory.CreateClient();
        }

        public async Task DisposeAsync()
        {
            Client.Dispose();
            await _factory.DisposeAsync();
        }
    }

    private async Task<HttpResponseMessage> PostAsync(string path, string body) =>
        await _client.PostAsync(new Uri(path, UriKind.Relative), new StringContent(body));

    [Fact]
    public async Task Post_WithAfter_WaitsAsAwaiting_ThenRunsOnceTheParentSucceeded()
    {
        var parent = await _client.PostTaskAsync("""{"type": "demo", "payload": {"durationMs": 2000}}""");
        var child = await _client.PostTaskAsync($$"""{"type": "demo", "after": [{{parent.Id()}}]}""");

        Assert.Equal("awaiting", child.State());
        var read = await _client.GetTaskAsync(child.Id());
        Assert.Equal([parent.Id()], read.GetProperty("after").EnumerateArray().Select(e => e.GetInt64()));
        var listed = await _client.GetFromJsonAsync<System.Text.Json.JsonElement>(new Uri("/tasks?state=awaiting", UriKind.Relative));
        Assert.Contains(listed.GetProperty("tasks").EnumerateArray(), t => t.Id() == child.Id());

        var done = await _client.WaitForStateAsync(child.Id(), "succeeded");
        var parentDone = await _client.GetTaskAsync(parent.Id());
        Assert.True(done.GetProperty("startedAt").GetDateTimeOffset() >= parentDone.GetProperty("finishedAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task Post_ParentFails_CancelsTheChildNamingIt_UnlessAnyOutcome()
    {
        var parent = await _client.PostTaskAsync("""{"type": "demo", "maxAttempts": 1, "payload": {"durationMs": 200, "failAttempts": 1}}""");
        var strict = await _client.PostTaskAsync($$"""{"type": "demo", "after": [{{parent.Id()}}]}""");
        var lenient = await _client.PostTaskAsync($$"""{"type": "demo", "after": [{{parent.Id()}}], "afterPolicy": "anyOutcome"}""");

        var cancelled = await _client.WaitForStateAsync(strict.Id(), "cancelled");
        await _client.WaitForStateAsync(lenient.Id(), "succeeded");

        Assert.Equal($"parent task {parent.Id()} failed", cancelled.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Batch_WithAfter_LinksEachItem_AndAnUnknownParentIsNamedByItsPlace()
    {
        var parent = await _client.PostTaskAsync("""{"type": "demo", "runAt": "2099-01-01T00:00:00Z"}""");

        using var ok = await PostAsync("/tasks/batch", $$"""{"tasks": [{"type": "demo"}, {"type": "demo", "after": [{{parent.Id()}}]}]}""");
        using var bad = await PostAsync("/tasks/batch", """{"tasks": [{"type": "demo"}, {"type": "demo", "after": [987654321]}]}""");

        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        var states = (await ok.ReadJsonAsync()).GetProperty("tasks").EnumerateArray().Select(t => t.State()).ToList();
        Assert.Equal(["queued", "awaiting"], states.Select(s => s == "succeeded" || s == "running" ? "queued" : s));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = await bad.ReadJsonAsync();
        Assert.Equal("tasks[1].after", problem.GetProperty("field").GetString());
        Assert.Contains("987654321", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type": "demo", "after": [1, 1]}""", "after", "twice")]
    [InlineData("""{"type": "demo", "after": [1, 2, 3, 4]}""", "after", "at most 3")]
    [InlineData("""{"type": "demo", "after": [0]}""", "after", "positive")]
    [InlineData("""{"type": "demo", "after": 5}""", "after", "array of task ids")]
    [InlineData("""{"type": "demo", "after": ["a"]}""", "after", "array of task ids")]
    [InlineData("""{"type": "demo", "after": [987654321]}""", "after", "does not exist")]
    [InlineData("""{"type": "demo", "afterPolicy": "sometimes"}""", "afterPolicy", "anyOutcome")]
    public async Task Post_BadAfter_IsA400NamingTheField(string body, string field, string message)
    {
        using var response = await PostAsync("/tasks", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.ReadJsonAsync();
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.Contains(message, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delete_AwaitingChild_CancelsIt()
    {
        var parent = await _client.PostTaskAsync("""{"type": "demo", "runAt": "2099-01-01T00:00:00Z"}""");
        var child = await _client.PostTaskAsync($$"""{"type": "demo", "after": [{{parent.Id()}}]}""");

        using var response = await _client.DeleteAsync(new Uri($"/tasks/{child.Id()}", UriKind.Relative));

        Assert.True(response.IsSuccessStatusCode, $"DELETE answered {(int)response.StatusCode}");
        Assert.Equal("cancelled", (await _client.GetTaskAsync(child.Id())).State());
    }
}

public sealed class SqliteContinuationsApiTests(SqliteContinuationsApiTests.ServerOnSqlite server)
    : ContinuationsApiTests(server), IClassFixture<SqliteContinuationsApiTests.ServerOnSqlite>
{
    public sealed class ServerOnSqlite : Server
    {
        protected override Task ConfigureStoreAsync(ApiFactory factory) => Task.CompletedTask;
    }
}

public sealed class PostgresContinuationsApiTests(PostgresContinuationsApiTests.ServerOnPostgres server)
    : ContinuationsApiTests(server), IClassFixture<PostgresContinuationsApiTests.ServerOnPostgres>
{
    public sealed class ServerOnPostgres : Server
    {
        protected override async Task ConfigureStoreAsync(ApiFactory factory)
        {
            factory.Settings["TaskSystem:Provider"] = "postgres";
            factory.Settings["TaskSystem:ConnectionString"] = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync();
        }
    }
}
