using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using TaskSystem.Server.Tests.Support;

namespace TaskSystem.Server.Tests.Security;

/// <summary>
/// What a stranger without a valid key costs: no line in a production log (failures are logged at Debug), and past
/// TaskSystem:AnonymousRateLimitPerSecond (on by default once keys are set) a 429, while keyed clients are untouched.
/// </summary>
public sealed class UnauthenticatedRequestTests
{
    private const string Key = "the-only-key-0123456789ab";

    [Fact]
    public async Task BadOrMissingKeys_AtTheDefaultLogLevels_WriteNoLineAtInformationOrAbove()
    {
        var logs = new LogSink();
        await using var factory = Keyed(logs);
        factory.Settings["TaskSystem:AnonymousRateLimitPerSecond"] = "0";
        using var client = factory.CreateClient();
        using (var warm = await GetAsync(client, Key))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        var before = logs.Lines.Count;
        for (var i = 0; i < 40; i++)
        {
            using var wrong = await GetAsync(client, "not-the-key-0123456789ab");
            using var none = await GetAsync(client, key: null);
            Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), (wrong.StatusCode, none.StatusCode));
        }

        var written = logs.Lines.Skip(before).Where(IsInformationOrAbove).ToList();
        Assert.True(written.Count == 0, "80 unauthenticated requests wrote:\n" + string.Join('\n', written));
    }

    [Fact]
    public async Task BadKeys_AreStillLoggedAtDebug_ForWhoeverTurnsItOn()
    {
        var logs = new LogSink();
        await using var factory = Keyed(logs);
        factory.Settings["Logging:LogLevel:TaskSystem.Server.Security"] = "Debug";
        using var client = factory.CreateClient();

        using var wrong = await GetAsync(client, "not-the-key-0123456789ab");

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Contains(logs.Lines, line => line.Contains("Debug: ApiKey was not authenticated", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Lines, line => line.Contains("not-the-key", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RequestsWithoutAValidKey_PastTheDefaultLimit_Get429WithRetryAfter_AndKeyedRequestsAreUnaffected()
    {
        await using var factory = Keyed(new LogSink());
        using var client = factory.CreateClient();

        // Far more than the default allows (10 a second, bursts of 20) in the time they take to send.
        var sending = System.Diagnostics.Stopwatch.StartNew();
        var guesses = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => GetAsync(client, i % 2 == 0 ? null : $"guess-{i:D4}-0123456789abcdef")));
        var seconds = sending.Elapsed.TotalSeconds;
        var keyed = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => GetAsync(client, Key)));
        using var health = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));

        try
        {
            var statuses = guesses.Select(r => r.StatusCode).ToList();
            Assert.Contains(HttpStatusCode.Unauthorized, statuses);
            Assert.Contains(HttpStatusCode.TooManyRequests, statuses);

            // The bucket: 20 at once, then 10 a second (refilled a tenth of a second at a time) while they were sent.
            Assert.InRange(statuses.Count(s => s == HttpStatusCode.Unauthorized), 1, 20 + (int)Math.Ceiling(10 * seconds) + 1);
            Assert.All(statuses, s => Assert.True(s is HttpStatusCode.Unauthorized or HttpStatusCode.TooManyRequests, $"{s}"));
            var limited = guesses.First(r => r.StatusCode == HttpStatusCode.TooManyRequests);
            Assert.InRange(limited.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
            Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
            Assert.Contains("TaskSystem:AnonymousRateLimitPerSecond", (await limited.ReadJsonAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.All(keyed, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }
        finally
        {
            foreach (var response in guesses.Concat(keyed))
            {
                response.Dispose();
            }
        }
    }

    [Fact]
    public async Task WithoutKeys_NoRequestIsLimitedAsAnonymous()
    {
        await using var factory = new ApiFactory();
        using var client = factory.CreateClient();

        var statuses = await Task.WhenAll(Enumerable.Range(0, 100).Select(async _ =>
        {
            using var response = await client.GetAsync(new Uri("/tasks", UriKind.Relative));
            return response.StatusCode;
        }));

        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
    }

    /// <summary>A server with one key, logging to <paramref name="logs"/> only, at the levels its appsettings.json sets.</summary>
    private static ApiFactory Keyed(LogSink logs)
    {
        var factory = new ApiFactory
        {
            Configure = builder => builder.ConfigureLogging(logging =>
            {
                logging.ClearProviders();
                logging.AddProvider(logs);
            }),
        };
        factory.Settings["TaskSystem:ApiKeys:0"] = Key;
        return factory;
    }

    private static async Task<HttpResponseMessage> GetAsync(HttpClient client, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/tasks");
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return await client.SendAsync(request);
    }

    private static bool IsInformationOrAbove(string line) =>
        new[] { " Information: ", " Warning: ", " Error: ", " Critical: " }.Any(level => line.Contains(level, StringComparison.Ordinal));
}
