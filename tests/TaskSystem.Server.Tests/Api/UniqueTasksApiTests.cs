using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TaskSystem.Server.Tests.Support;

namespace TaskSystem.Server.Tests.Api;

/// <summary>Idempotent enqueue: a key held by a kept task returns that task with 200, never a second task.</summary>
public sealed class UniqueTasksApiTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private const string Later = """{"type": "demo", "runAt": "2099-01-01T00:00:00Z", "payload": {"n": 1}}""";

    private readonly HttpClient _client = factory.CreateClient();

    private async Task<HttpResponseMessage> PostAsync(string body, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/tasks", UriKind.Relative)) { Content = new StringContent(body) };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        return await _client.SendAsync(request);
    }

    [Fact]
    public async Task Post_SameIdempotencyKeyTwice_Answers201ThenTheSameTaskWith200()
    {
        var key = Guid.NewGuid().ToString();
        using var first = await PostAsync(Later, key);
        using var second = await PostAsync("""{"type": "demo", "payload": {"n": 2}}""", key);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.False(first.Headers.Contains("TaskSystem-Existing"));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("true", Assert.Single(second.Headers.GetValues("TaskSystem-Existing")));
        var created = await first.ReadJsonAsync();
        var existing = await second.ReadJsonAsync();
        Assert.Equal(created.Id(), existing.Id());
        Assert.Equal(key, existing.GetProperty("key").GetString());
        Assert.Equal(1, existing.GetProperty("payload").GetProperty("n").GetInt32());
        Assert.Equal("scheduled", existing.State());
    }

    [Fact]
    public async Task Post_KeyInTheEnvelope_WorksAsTheHeaderDoes()
    {
        var key = Guid.NewGuid().ToString();
        var body = $$"""{"type": "demo", "runAt": "2099-01-01T00:00:00Z", "key": "{{key}}"}""";

        using var first = await PostAsync(body);
        using var second = await PostAsync(Later, key);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal((await first.ReadJsonAsync()).Id(), (await second.ReadJsonAsync()).Id());
    }

    [Fact]
    public async Task Post_ConcurrentCallersWithOneKey_GetOneTask_OneCreated()
    {
        var key = Guid.NewGuid().ToString();

        var responses = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => PostAsync(Later, key)));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        Assert.Equal(29, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        var ids = await Task.WhenAll(responses.Select(async r => (await r.ReadJsonAsync()).Id()));
        Assert.Single(ids.Distinct());
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Theory]
    [InlineData("""{"type": "demo", "key": 5}""", null, "key must be a string")]
    [InlineData("""{"type": "demo", "key": ""}""", null, "key must be 1 to 200 characters")]
    [InlineData("""{"type": "demo", "key": "a"}""", "b", "differ")]
    public async Task Post_BadKey_IsA400NamingTheKeyField(string body, string? header, string message)
    {
        using var response = await PostAsync(body, header);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("key", problem.GetProperty("field").GetString());
        Assert.Contains(message, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_KeyLongerThan200Characters_IsA400()
    {
        using var response = await PostAsync(Later, new string('k', 201));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("key", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
    }
}
