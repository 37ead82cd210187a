using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TaskSystem.Server.Tests.Support;

namespace TaskSystem.Server.Tests.Security;

/// <summary>With TaskSystem:ApiKeys set, every endpoint but health needs a key: tried with none, a wrong one and a right one.</summary>
public sealed class AuthTests(AuthTests.KeyedApi api) : IClassFixture<AuthTests.KeyedApi>
{
    public const string Key = "first-key-0123456789abcdef";
    public const string SecondKey = "second-key-ABCDEFGHIJKLMNOP";
    public const string WrongKey = "wrong-key-0123456789abcdef";

    public static TheoryData<string, string, HttpStatusCode> Endpoints => new()
    {
        { "POST", "/tasks", HttpStatusCode.Created },
        { "GET", "/tasks", HttpStatusCode.OK },
        { "GET", "/tasks?state=all&limit=5", HttpStatusCode.OK },
        { "GET", "/tasks/{id}", HttpStatusCode.OK },
        { "DELETE", "/tasks/{id}", HttpStatusCode.NoContent },
        { "POST", "/tasks/{id}/retry", HttpStatusCode.Conflict },
        { "GET", "/metrics", HttpStatusCode.OK },
        { "GET", "/dashboard/api/stats", HttpStatusCode.NotFound },
        { "GET", "/no/such/route", HttpStatusCode.NotFound },
        { "PUT", "/tasks", HttpStatusCode.MethodNotAllowed },
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Endpoint_WithNoKey_OrAWrongKey_Is401_AndWithTheKeyAnswers(string method, string path, HttpStatusCode withKey)
    {
        var target = path.Replace("{id}", (await CreateScheduledTaskAsync()).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

        using var none = await SendAsync(method, target, authorization: null);
        using var wrong = await SendAsync(method, target, new AuthenticationHeaderValue("Bearer", WrongKey));
        using var right = await SendAsync(method, target, new AuthenticationHeaderValue("Bearer", Key));

        await AssertUnauthorizedAsync(none, "Bearer");
        await AssertUnauthorizedAsync(wrong, "Bearer error=\"invalid_token\"");
        Assert.Equal(withKey, right.StatusCode);
    }

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task HealthProbes_AreOpen_WithOrWithoutAKey(string path)
    {
        using var none = await SendAsync("GET", path, authorization: null);
        using var wrong = await SendAsync("GET", path, new AuthenticationHeaderValue("Bearer", WrongKey));

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (none.StatusCode, wrong.StatusCode));
    }

    [Theory]
    [InlineData("Bearer", SecondKey, HttpStatusCode.OK)]
    [InlineData("bearer", Key, HttpStatusCode.OK)]
    [InlineData("Basic", Key, HttpStatusCode.Unauthorized)]
    [InlineData("Bearer", "first-key-0123456789abcdeF", HttpStatusCode.Unauthorized)]
    [InlineData("Bearer", "first-key-0123456789abcde", HttpStatusCode.Unauthorized)]
    [InlineData("Bearer", "first-key-0123456789abcdef0", HttpStatusCode.Unauthorized)]
    [InlineData("Bearer", "", HttpStatusCode.Unauthorized)]
    public async Task EveryConfiguredKeyWorks_AndOnlyExactly(string scheme, string key, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/tasks");
        request.Headers.TryAddWithoutValidation("Authorization", $"{scheme} {key}");

        using var response = await api.Client.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task Keys_AreNeverLogged_NorEchoed()
    {
        using var wrong = await SendAsync("GET", "/tasks", new AuthenticationHeaderValue("Bearer", WrongKey));
        using var right = await SendAsync("POST", "/tasks", new AuthenticationHeaderValue("Bearer", Key), """{"type": "demo", "payload": {"durationMs": 0}}""");
        using var second = await SendAsync("GET", "/metrics", new AuthenticationHeaderValue("Bearer", SecondKey));
        var body = await wrong.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Created, right.StatusCode);
        Assert.Contains(api.Logs.Lines, line => line.Contains("ApiKey was not authenticated", StringComparison.Ordinal));
        foreach (var secret in new[] { Key, SecondKey, WrongKey })
        {
            Assert.DoesNotContain(api.Logs.Lines, line => line.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(secret, body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task NoDataEndpoint_OptsOutOfTheKey_AndEverythingElseFallsBackToIt()
    {
        var endpoints = api.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        var fallback = await api.Factory.Services.GetRequiredService<IAuthorizationPolicyProvider>().GetFallbackPolicyAsync();
        static bool Open(RouteEndpoint e) => e.Metadata.GetMetadata<IAllowAnonymous>() is not null;
        static bool HoldsData(RouteEndpoint e) =>
            new[] { "/tasks", "/metrics", "/dashboard/api/" }.Any(prefix => e.RoutePattern.RawText!.StartsWith(prefix, StringComparison.OrdinalIgnoreCase));

        Assert.NotNull(fallback);
        Assert.Contains(endpoints, e => e.RoutePattern.RawText == "/metrics");
        Assert.All(endpoints.Where(e => e.RoutePattern.RawText!.StartsWith("/health/", StringComparison.Ordinal)), e => Assert.True(Open(e)));
        Assert.DoesNotContain(endpoints, e => HoldsData(e) && Open(e));
    }

    private async Task<long> CreateScheduledTaskAsync()
    {
        using var response = await SendAsync("POST", "/tasks", new AuthenticationHeaderValue("Bearer", Key), """{"type": "demo", "runAt": "2099-01-01T00:00:00Z"}""");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadJsonAsync()).Id();
    }

    private async Task<HttpResponseMessage> SendAsync(string method, string path, AuthenticationHeaderValue? authorization, string? body = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Authorization = authorization;
        if (body is not null || method == "POST")
        {
            request.Content = new StringContent(body ?? """{"type": "demo", "payload": {"durationMs": 0}}""");
        }

        return await api.Client.SendAsync(request);
    }

    private static async Task AssertUnauthorizedAsync(HttpResponseMessage response, string challenge)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(challenge, Assert.Single(response.Headers.WwwAuthenticate).ToString());
        var problem = await response.ReadJsonAsync();
        Assert.Equal(401, problem.GetProperty("status").GetInt32());
        Assert.Contains("Authorization: Bearer", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    /// <summary>One server with two keys for the whole class, its logs captured at every level.</summary>
    public sealed class KeyedApi : IAsyncLifetime
    {
        public KeyedApi()
        {
            Factory = new ApiFactory
            {
                Configure = builder => builder.ConfigureLogging(logging =>
                {
                    logging.ClearProviders();
                    logging.AddProvider(Logs);
                }),
            };
            Factory.Settings["TaskSystem:ApiKeys:0"] = Key;
            Factory.Settings["TaskSystem:ApiKeys:1"] = SecondKey;

            // These tests try many requests without a valid key to see who gets in; the limit on those has tests of its own.
            Factory.Settings["TaskSystem:AnonymousRateLimitPerSecond"] = "0";
            Factory.Settings["Logging:LogLevel:Default"] = "Trace";
            Factory.Settings["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace";
            Client = Factory.CreateClient();
        }

        public LogSink Logs { get; } = new();

        public ApiFactory Factory { get; }

        public HttpClient Client { get; }

        public Task InitializeAsync() => Task.CompletedTask;

        public async Task DisposeAsync() => await Factory.DisposeAsync();
    }
}
