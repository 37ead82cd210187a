using System.Net;
using TaskSystem.Server.Tests.Support;

namespace TaskSystem.Server.Tests.Api;

/// <summary>TaskSystem:MaxQueued: past the cap, POST answers 503 with Retry-After; what was accepted is untouched.</summary>
public sealed class LimitsApiTests
{
    [Fact]
    public async Task Post_PastMaxQueued_Is503WithRetryAfter_AndAcceptedTasksStay()
    {
        await using var factory = new ApiFactory();
        factory.Settings["TaskSystem:MaxQueued"] = "2";
        factory.Settings["TaskSystem:CountsRefreshInterval"] = "00:00:01.500";
        using var client = factory.CreateClient();
        const string Scheduled = """{"type": "demo", "runAt": "2099-01-01T00:00:00Z"}""";

        var first = await client.PostTaskAsync(Scheduled);
        var second = await client.PostTaskAsync(Scheduled);
        using var full = await client.PostAsync(new Uri("/tasks", UriKind.Relative), new StringContent(Scheduled));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, full.StatusCode);
        Assert.Equal("application/problem+json", full.Content.Headers.ContentType?.MediaType);
        Assert.Equal(TimeSpan.FromSeconds(2), full.Headers.RetryAfter!.Delta);
        Assert.Contains("TaskSystem:MaxQueued is 2", (await full.ReadJsonAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("scheduled", (await client.GetTaskAsync(first.Id())).State());
        Assert.Equal("scheduled", (await client.GetTaskAsync(second.Id())).State());
    }

    [Fact]
    public async Task Post_ABodyLargerThanTheLargestTask_Is413()
    {
        await using var factory = new ApiFactory();
        factory.Settings["TaskSystem:MaxPayloadBytes"] = "1000";
        using var client = factory.CreateClient();
        var body = "{\"type\": \"demo\", \"payload\": {\"x\": \"" + new string('a', 200_000) + "\"}}";

        using var response = await client.PostAsync(new Uri("/tasks", UriKind.Relative), new StringContent(body));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
