using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using CsCheck;
using TaskSystem.Server.Tests.Support;
using Xunit.Abstractions;

namespace TaskSystem.Server.Tests.Fuzz;

/// <summary>
/// Property-based fuzzing of the real server process over raw TCP: thousands of random and malformed requests
/// (methods, paths, query strings, headers, bodies, framing). None gets a 5xx, the server stays healthy, and every
/// task that got a 201 is still there at the end.
/// </summary>
public sealed class HttpFuzzTests(ITestOutputHelper output)
{
    private const int Requests = 5000;

    [Fact]
    public async Task RandomAndMalformedRequests_NeverGet5xx_TheServerStaysHealthy_AndNoAcceptedTaskIsLost()
    {
        using var directory = new TempDirectory();
        await using var server = await ServerProcess.StartAsync(
            "--TaskSystem:ConnectionString", directory.SqliteConnectionString,
            "--TaskSystem:ApiKeys:0", FuzzRequest.Key,
            "--TaskSystem:MaxPayloadBytes", "4096",
            "--TaskSystem:Concurrency", "8",
            "--TaskSystem:ExternalTypes:0", "fuzzed",
            "--TaskSystem:ExternalTypes:1", "other");
        var accepted = new ConcurrentDictionary<long, byte>();
        var statuses = new ConcurrentDictionary<int, int>();

        await FuzzRequest.Any.SampleAsync(
            async request =>
            {
                var response = await RawHttp.SendAsync(server.Address, request.ToBytes(), TimeSpan.FromSeconds(10), endOfInput: request.Garbage);
                statuses.AddOrUpdate(response.Status, 1, (_, n) => n + 1);
                // 505 is Kestrel's answer to a request line asking for HTTP/9.9: the client's fault, despite the code.
                Assert.True(response.Status < 500 || (response.Status == 505 && request.Garbage), $"{response.Status} for {request}\n{response.Head}");
                Assert.True(response.Status > 0 || request.Garbage || request.Framing != Framing.ContentLength, $"no answer to {request}");
                if (response.Status == 201)
                {
                    var location = response.Header("Location") ?? throw new InvalidOperationException("201 without a Location");
                    accepted[long.Parse(location["/tasks/".Length..], CultureInfo.InvariantCulture)] = 0;
                }
            },
            iter: Requests,
            threads: 4,
            print: request => request.ToString());

        output.WriteLine($"statuses: {string.Join(", ", statuses.OrderBy(p => p.Key).Select(p => $"{p.Key}: {p.Value}"))}; tasks accepted: {accepted.Count}");
        Assert.False(server.HasExited, "the server exited:\n" + server.Output);
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync(new Uri("/health/live", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode);
        Assert.True(accepted.Count > Requests / 20, $"only {accepted.Count} tasks were accepted: the generator rarely makes valid requests");
        server.Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", FuzzRequest.Key);
        foreach (var id in accepted.Keys)
        {
            using var response = await server.Client.GetAsync(new Uri($"/tasks/{id}", UriKind.Relative));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"accepted task {id} is gone: {response.StatusCode}");
        }
    }
}
