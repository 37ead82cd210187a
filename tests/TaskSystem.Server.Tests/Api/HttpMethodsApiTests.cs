using System.Net;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using TaskSystem.Server.Tests.Support;

namespace TaskSystem.Server.Tests.Api;

/// <summary>HEAD works wherever GET does (RFC 9110); the probes and the scrape answer GET and HEAD only.</summary>
public sealed class HttpMethodsApiTests
{
    [Fact]
    public async Task EveryEndpoint_NamesItsMethods_AndEveryOneThatAnswersGet_AnswersHead()
    {
        await using var factory = new ApiFactory();
        _ = factory.Server;

        var endpoints = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();

        Assert.NotEmpty(endpoints);
        Assert.All(endpoints, endpoint =>
        {
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods;
            Assert.True(methods is { Count: > 0 }, $"{endpoint.RoutePattern.RawText} answers every method");
            Assert.True(!methods.Contains("GET") || methods.Contains("HEAD"), $"{endpoint.RoutePattern.RawText} answers GET but not HEAD");
        });
    }

    [Fact]
    public async Task Head_OnTheServer_AnswersAsGetWould_WithoutABody_AndProbesRefuseOtherMethods()
    {
        using var directory = new TempDirectory();
        await using var server = await InProcessServer.StartAsync("--TaskSystem:ConnectionString", directory.SqliteConnectionString);
        var task = await server.Client.PostTaskAsync("""{"type": "demo", "payload": {"durationMs": 0}}""");

        foreach (var path in new[] { "/tasks", $"/tasks/{task.Id()}", "/tasks?state=all", "/dashboard/api/overview", "/dashboard/api/handlers", "/health/live", "/health/ready", "/metrics" })
        {
            using var get = await server.Client.GetAsync(new Uri(path, UriKind.Relative));
            using var head = await SendAsync(server, HttpMethod.Head, path);

            Assert.Equal((path, HttpStatusCode.OK, get.Content.Headers.ContentType?.MediaType), (path, head.StatusCode, head.Content.Headers.ContentType?.MediaType));
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        }

        using (var unknown = await SendAsync(server, HttpMethod.Head, "/tasks/999999"))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        // The event stream's HEAD ends at once with the stream's headers instead of streaming into the void.
        using (var events = await SendAsync(server, HttpMethod.Head, "/dashboard/api/events").WaitAsync(TimeSpan.FromSeconds(10)))
        {
            Assert.Equal((HttpStatusCode.OK, "text/event-stream"), (events.StatusCode, events.Content.Headers.ContentType?.MediaType));
        }

        foreach (var path in new[] { "/health/live", "/health/ready", "/metrics" })
        {
            foreach (var method in new[] { HttpMethod.Post, HttpMethod.Put, HttpMethod.Delete, HttpMethod.Patch })
            {
                using var refused = await SendAsync(server, method, path);
                Assert.True(refused.StatusCode == HttpStatusCode.MethodNotAllowed, $"{method} {path} answered {(int)refused.StatusCode}");
            }
        }
    }

    private static Task<HttpResponseMessage> SendAsync(InProcessServer server, HttpMethod method, string path) =>
        server.Client.SendAsync(new HttpRequestMessage(method, new Uri(path, UriKind.Relative)), HttpCompletionOption.ResponseHeadersRead);
}
