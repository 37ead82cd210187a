using System.Net;
using System.Net.Http.Headers;
using TaskSystem.Server.Tests.Support;

namespace TaskSystem.Server.Tests.Security;

/// <summary>TaskSystem:RateLimitPerSecond: a token bucket per client (its key, else its address); 429 with Retry-After past it.</summary>
public sealed class RateLimitTests
{
    [Fact]
    public async Task PastTheBurst_AClientGets429ProblemsWithRetryAfter_ButHealthProbesNever()
    {
        await using var factory = new ApiFactory();
        factory.Settings["TaskSystem:RateLimitPerSecond"] = "2";
        factory.Settings["TaskSystem:RateLimitBurst"] = "3";
        using var client = factory.CreateClient();

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 20; i++)
        {
            var response = await client.GetAsync(new Uri("/tasks", UriKind.Relative));
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests && limited is null)
            {
                limited = response;
            }
            else
            {
                response.Dispose();
            }
        }

        for (var i = 0; i < 20; i++)
        {
            using var health = await client.GetAsync(new Uri("/health/live", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK], statuses.Take(3));
        Assert.NotNull(limited);
        using (limited)
        {
            Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
            Assert.InRange(limited.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
            Assert.Contains("TaskSystem:RateLimitPerSecond", (await limited.ReadJsonAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task EachKey_HasABucketOfItsOwn()
    {
        const string First = "rate-key-one-0123456789", Second = "rate-key-two-0123456789";
        await using var factory = new ApiFactory();
        factory.Settings["TaskSystem:ApiKeys:0"] = First;
        factory.Settings["TaskSystem:ApiKeys:1"] = Second;
        factory.Settings["TaskSystem:RateLimitPerSecond"] = "1";
        factory.Settings["TaskSystem:RateLimitBurst"] = "2";
        using var client = factory.CreateClient();

        var first = await GetManyAsync(client, First, 10);
        var second = await GetManyAsync(client, Second, 2);

        Assert.Contains(HttpStatusCode.TooManyRequests, first);
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK], second);
    }

    [Fact]
    public async Task ByDefault_ThereIsNoLimit()
    {
        await using var factory = new ApiFactory();
        using var client = factory.CreateClient();

        var statuses = await Task.WhenAll(Enumerable.Range(0, 300).Select(async _ =>
        {
            using var response = await client.GetAsync(new Uri("/tasks", UriKind.Relative));
            return response.StatusCode;
        }));

        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
    }

    private static async Task<List<HttpStatusCode>> GetManyAsync(HttpClient client, string key, int count)
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < count; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/tasks");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var response = await client.SendAsync(request);
            statuses.Add(response.StatusCode);
        }

        return statuses;
    }
}
