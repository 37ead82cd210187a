using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TaskSystem.Server.Tests.Support;
using TaskSystem.TestSupport;

namespace TaskSystem.Server.Tests.Api;

/// <summary>
/// The server's http task type, set up from its settings: a bad payload is a 400 naming the field before anything is
/// stored; a good one calls the receiver and records its answer.
/// </summary>
/// <remarks>
/// The tests share one server and one receiver (a host each costs far more than a test): only one test makes a task
/// that calls the receiver, and a refused payload is checked to have added no http task rather than to find none.
/// </remarks>
public sealed class HttpTargetApiTests(HttpTargetApiTests.Server server) : IClassFixture<HttpTargetApiTests.Server>
{
    private readonly TargetReceiver _receiver = server.Receiver;
    private readonly HttpClient _client = server.Client;

    /// <summary>A server whose http tasks may call the receiver (and api.example.com, never called).</summary>
    public sealed class Server : IAsyncLifetime
    {
        private ApiFactory _factory = null!;

        public TargetReceiver Receiver { get; private set; } = null!;

        public HttpClient Client { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Receiver = await TargetReceiver.StartAsync((context, _) =>
            {
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/json";
                return context.Response.WriteAsync("""{"thanks": true}""");
            });
            _factory = new ApiFactory();
            _factory.Settings["TaskSystem:Http:AllowedTargets:0"] = Receiver.Url("hooks/");
            _factory.Settings["TaskSystem:Http:AllowedTargets:1"] = "https://api.example.com/hooks/";
            _factory.Settings["TaskSystem:Http:AllowPrivateNetworks"] = "true";
            _factory.Settings["TaskSystem:Http:MaxRequestBodyBytes"] = "100";
            Client = _factory.CreateClient();
        }

        public async Task DisposeAsync()
        {
            Client.Dispose();
            await _factory.DisposeAsync();
            await Receiver.DisposeAsync();
        }
    }

    public static TheoryData<string, string> BadPayloads => new()
    {
        { """{}""", "payload.url is required" },
        { """{"url": "/hooks/a"}""", "payload.url must be an absolute http or https URL (got '/hooks/a')" },
        { """{"url": "ftp://api.example.com/hooks/a"}""", "payload.url must be an absolute http or https URL (got 'ftp://api.example.com/hooks/a')" },
        { """{"url": "https://api.example.com/admin"}""", "payload.url https://api.example.com/admin is not under any of TaskSystem:Http:AllowedTargets" },
        { """{"url": "http://169.254.169.254/latest/meta-data/"}""", "is not under any of TaskSystem:Http:AllowedTargets" },
        { """{"url": "https://api.example.com/hooks/a", "method": "CONNECT"}""", "payload.method must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS" },
        { """{"url": "https://api.example.com/hooks/a", "body": "__BIG__"}""", "payload.body is 101 bytes; the limit is 100 (TaskSystem:Http:MaxRequestBodyBytes)" },
        { """{"url": "https://api.example.com/hooks/a", "headers": {"Host": "localhost"}}""", "payload.headers.Host cannot be set by a task" },
        { """{"url": "https://api.example.com/hooks/a", "headers": {"Transfer-Encoding": "chunked"}}""", "payload.headers.Transfer-Encoding cannot be set by a task" },
    };

    [Theory]
    [MemberData(nameof(BadPayloads))]
    public async Task Post_BadHttpPayload_IsA400NamingTheField_AndStoresNothing(string payload, string detail)
    {
        var body = $$"""{"type": "http", "payload": {{payload.Replace("__BIG__", new string('x', 101), StringComparison.Ordinal)}} }""";

        var before = await HttpTaskIdsAsync();

        using var response = await _client.PostAsync(new Uri("/tasks", UriKind.Relative), new StringContent(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.ReadJsonAsync();
        Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("payload", problem.GetProperty("field").GetString());
        Assert.Equal(before, await HttpTaskIdsAsync());
    }

    /// <summary>Every stored http task, whatever its state.</summary>
    private async Task<List<long>> HttpTaskIdsAsync()
    {
        var stored = await _client.GetFromJsonAsync<JsonElement>(new Uri("/tasks?state=all&type=http", UriKind.Relative));
        return [.. stored.GetProperty("tasks").EnumerateArray().Select(t => t.Id())];
    }

    [Fact]
    public async Task Post_HttpTaskToAnAllowedTarget_CallsIt_AndRecordsItsAnswer()
    {
        var task = await _client.PostTaskAsync($$"""{"type": "http", "payload": {"url": "{{_receiver.Url("hooks/welcome")}}", "body": {"user": 42} } }""");

        var done = await _client.WaitForStateAsync(task.Id(), "succeeded");

        var result = done.GetProperty("result");
        Assert.Equal((200, true), (result.GetProperty("status").GetInt32(), result.GetProperty("body").GetProperty("thanks").GetBoolean()));
        Assert.Equal("/hooks/welcome", Assert.Single(_receiver.Requests).PathAndQuery);
    }

    [Fact]
    public async Task Handlers_ListTheHttpType()
    {
        var handlers = await _client.GetFromJsonAsync<JsonElement>(new Uri("/dashboard/api/handlers", UriKind.Relative));

        Assert.Contains("http", handlers.GetProperty("types").EnumerateArray().Select(t => t.GetString()));
    }
}

/// <summary>A server without allowed targets: the http type is there, and refuses every task, saying how to allow one.</summary>
public sealed class HttpTargetsOffApiTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Post_HttpTask_WithoutAllowedTargets_IsA400_NamingTheSetting()
    {
        using var client = factory.CreateClient();

        using var response = await client.PostAsync(new Uri("/tasks", UriKind.Relative),
            new StringContent("""{"type": "http", "payload": {"url": "https://api.example.com/hooks/a"}}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadJsonAsync();
        Assert.Equal("http tasks are off on this server: set TaskSystem:Http:AllowedTargets to the URL prefixes they may call.", problem.GetProperty("detail").GetString());
    }
}
