using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using TaskSystem.AspNetCore.Dashboard;
using TaskSystem.Server.Tests.Support;

namespace TaskSystem.Server.Tests.Dashboard;

/// <summary>The dashboard's JSON, its event stream and its static files, through the real pipeline.</summary>
public sealed class DashboardApiTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private static readonly string[] States = ["awaiting", "queued", "scheduled", "running", "succeeded", "failed", "cancelled"];
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Overview_CountsPerStateAndQueue_NodesAndAnHourOfMinuteBuckets()
    {
        var done = await _client.PostTaskAsync("""{"type": "demo", "payload": {"durationMs": 0}, "queue": "overview-a"}""");
        var failed = await _client.PostTaskAsync("""{"type": "demo", "payload": {"durationMs": 0, "failAttempts": 1}, "maxAttempts": 1, "queue": "overview-b"}""");
        var running = await _client.PostTaskAsync("""{"type": "demo", "payload": {"durationMs": 60000}, "queue": "overview-b"}""");
        await _client.WaitForStateAsync(done.Id(), "succeeded");
        await _client.WaitForStateAsync(failed.Id(), "failed");
        await _client.WaitForStateAsync(running.Id(), "running");

        var overview = await _client.GetFromJsonAsync<JsonElement>(new Uri("/dashboard/api/overview", UriKind.Relative));

        Assert.Equal("api-test", overview.GetProperty("node").GetString());
        Assert.Equal(States, overview.GetProperty("counts").EnumerateObject().Select(p => p.Name));
        Assert.True(overview.GetProperty("newestId").GetInt64() >= running.Id());
        var queues = overview.GetProperty("queues").EnumerateArray().ToDictionary(q => q.GetProperty("queue").GetString()!);
        Assert.Equal(1, queues["overview-a"].GetProperty("counts").GetProperty("succeeded").GetInt64());
        Assert.Equal(1, queues["overview-b"].GetProperty("counts").GetProperty("failed").GetInt64());
        Assert.Equal(2, queues["overview-b"].GetProperty("total").GetInt64());
        var node = Assert.Single(overview.GetProperty("nodes").EnumerateArray());
        Assert.Equal(8, node.GetProperty("workers").GetInt32());
        Assert.True(node.GetProperty("busy").GetInt32() >= 1);
        Assert.True(node.GetProperty("current").GetBoolean());
        var throughput = overview.GetProperty("throughput");
        Assert.Equal(60, throughput.GetProperty("bucketSeconds").GetInt32());
        var buckets = throughput.GetProperty("buckets").EnumerateArray().ToList();
        Assert.Equal(60, buckets.Count);
        Assert.True(buckets[^1].GetProperty("succeeded").GetInt64() + buckets[^2].GetProperty("succeeded").GetInt64() >= 1);
        Assert.True(buckets.Sum(b => b.GetProperty("failed").GetInt64()) >= 1);
        await _client.DeleteAsync(new Uri($"/tasks/{running.Id()}", UriKind.Relative));
    }

    [Fact]
    public async Task Handlers_ListsTheRegisteredTypesAndTheDefaults()
    {
        var handlers = await _client.GetFromJsonAsync<JsonElement>(new Uri("/dashboard/api/handlers", UriKind.Relative));

        Assert.Equal(["demo", "http"], handlers.GetProperty("types").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("default", handlers.GetProperty("defaultQueue").GetString());
        Assert.Equal(3, handlers.GetProperty("defaultMaxAttempts").GetInt32());
        Assert.Equal(1800, handlers.GetProperty("defaultTimeoutSeconds").GetDouble());
    }

    [Fact]
    public async Task Events_StartWithRetryAndTheCurrentState_ThenAnEnqueueArrivesWithinASecond()
    {
        using var response = await OpenStreamAsync();
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
        using var events = new SseReader(await response.Content.ReadAsStreamAsync());

        var stats = await events.UntilAsync(e => e.Name == "stats", TimeSpan.FromSeconds(5), "the first stats");
        var overview = await events.UntilAsync(e => e.Name == "overview", TimeSpan.FromSeconds(5), "the first overview");
        Assert.Equal(2000, events.Retry);
        Assert.Equal(States, stats.Json.GetProperty("counts").EnumerateObject().Select(p => p.Name));
        Assert.True(overview.Json.TryGetProperty("throughput", out _));
        Assert.True(long.Parse(overview.Id!, System.Globalization.CultureInfo.InvariantCulture) > long.Parse(stats.Id!, System.Globalization.CultureInfo.InvariantCulture));

        var started = System.Diagnostics.Stopwatch.StartNew();
        var task = await _client.PostTaskAsync("""{"type": "demo", "payload": {"durationMs": 0}, "queue": "events"}""");
        var seen = await events.UntilAsync(e => e.Name == "stats" && e.Json.GetProperty("newestId").GetInt64() >= task.Id(), TimeSpan.FromSeconds(5), "the new task");
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(1), $"the enqueue took {started.Elapsed} to reach the stream");
        Assert.True(seen.Json.GetProperty("total").GetInt64() >= 1);
    }

    [Fact]
    public async Task Events_ManyStreams_ShareOneWatcher_EveryStreamGetsTheSameEvent()
    {
        var streams = new List<(HttpResponseMessage Response, SseReader Reader)>();
        try
        {
            for (var i = 0; i < 10; i++)
            {
                var response = await OpenStreamAsync();
                var reader = new SseReader(await response.Content.ReadAsStreamAsync());
                await reader.UntilAsync(e => e.Name == "overview", TimeSpan.FromSeconds(5), "the first overview");
                streams.Add((response, reader));
            }

            var task = await _client.PostTaskAsync("""{"type": "demo", "payload": {"durationMs": 0}, "queue": "fan-out"}""");

            // One read of the store, one event, written to every stream: the same id everywhere.
            var ids = new HashSet<string?>();
            foreach (var (_, reader) in streams)
            {
                var seen = await reader.UntilAsync(e => e.Name == "stats" && e.Json.GetProperty("newestId").GetInt64() >= task.Id(), TimeSpan.FromSeconds(5), "the new task");
                ids.Add(seen.Id + ":" + seen.Data);
            }

            Assert.Single(ids);
        }
        finally
        {
            foreach (var (response, reader) in streams)
            {
                reader.Dispose();
                response.Dispose();
            }
        }
    }

    [Fact]
    public async Task Events_WhenNothingChanges_SendAHeartbeatComment_AndTheRetryDelay()
    {
        await using var quiet = new ApiFactory();
        await using var fast = quiet.WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
            services.AddSingleton(new DashboardTimings { Heartbeat = TimeSpan.FromMilliseconds(200), Reconnect = TimeSpan.FromMilliseconds(1500) })));
        using var client = fast.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/dashboard/api/events", UriKind.Relative));
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var events = new SseReader(await response.Content.ReadAsStreamAsync());
        await events.UntilAsync(e => e.Name == "overview", TimeSpan.FromSeconds(5), "the first overview");

        // Nothing changes: no event is due, so the next thing to arrive is a comment; the reader skips it.
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => events.NextAsync(wait.Token));

        Assert.Equal(1500, events.Retry);
        Assert.Contains("ping", events.Comments);
    }

    [Fact]
    public async Task Page_IsServedAtTheRoot_WithItsFilesAndAStrictContentSecurityPolicy()
    {
        using var page = await _client.GetAsync(new Uri("/", UriKind.Relative));
        using var script = await _client.GetAsync(new Uri("/dashboard/app.js", UriKind.Relative));
        using var style = await _client.GetAsync(new Uri("/dashboard/app.css", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("src=\"dashboard/app.js\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, style.StatusCode);
        Assert.Equal("text/css", style.Content.Headers.ContentType?.MediaType);
    }

    private async Task<HttpResponseMessage> OpenStreamAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/dashboard/api/events", UriKind.Relative));
        request.Headers.Accept.ParseAdd("text/event-stream");
        var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response;
    }
}
