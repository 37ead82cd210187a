using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using TaskSystem.Server.Tests.Support;

namespace TaskSystem.Server.Tests.Api;

/// <summary>
/// The OpenAPI document cannot drift from the code: every API endpoint the server maps (walked from its endpoint data
/// source, so endpoints added later are covered without a change here) is in the document with its responses, and the
/// real server's live answers (success and error) to every documented operation are documented answers whose bodies
/// match the document's schemas.
/// </summary>
public sealed class OpenApiContractTests
{
    private const string Key = "contract-test-key-0123456789abcdef";
    private const string DocumentPath = "/openapi/v1.json";

    [Fact]
    public async Task Document_DescribesEveryApiEndpointTheServerMaps_WithItsResponses()
    {
        await using var factory = new ApiFactory();
        _ = factory.Server;
        using var response = await factory.CreateClient().GetAsync(new Uri(DocumentPath, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var document = json.RootElement;
        Assert.StartsWith("3.1", document.GetProperty("openapi").GetString(), StringComparison.Ordinal);

        var described = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<System.Reflection.MethodInfo>() is not null
                && e.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is not { ExcludeFromDescription: true })
            .SelectMany(e => e.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods.Select(method => (Method: method.ToLowerInvariant(), Path: PathOf(e))))
            .ToList();
        Assert.Contains(("post", "/tasks"), described);

        foreach (var (method, path) in described)
        {
            Assert.True(document.GetProperty("paths").TryGetProperty(path, out var item) && item.TryGetProperty(method, out _),
                $"{method.ToUpperInvariant()} {path} is mapped but not in the OpenAPI document");
            var operation = item.GetProperty(method);
            var responses = operation.GetProperty("responses").EnumerateObject().ToList();
            Assert.Contains(responses, r => r.Name.StartsWith('2'));
            Assert.All(responses.Where(r => r.Name[0] is '4' or '5'), r => Assert.True(
                r.Value.TryGetProperty("content", out var content) && content.TryGetProperty("application/problem+json", out _),
                $"{method} {path}: the {r.Name} response is not a problem"));
            if (operation.TryGetProperty("security", out _))
            {
                Assert.Contains(responses, r => r.Name == "401");
            }

            if (operation.TryGetProperty("requestBody", out var body))
            {
                var media = body.GetProperty("content").EnumerateObject().ToList();
                Assert.Contains(media, m => m.Name == "application/json");
                Assert.All(media, m => Assert.True(m.Value.TryGetProperty("schema", out _) && m.Value.TryGetProperty("example", out _),
                    $"{method} {path}: the {m.Name} body has no schema or no example"));
            }
        }

        var enqueueBody = document.GetProperty("paths").GetProperty("/tasks").GetProperty("post").GetProperty("requestBody").GetProperty("content");
        Assert.True(enqueueBody.TryGetProperty("*/*", out _), "the enqueue endpoint says it takes any content type");
    }

    [Fact]
    public async Task LiveAnswers_ToEveryDocumentedOperation_AreDocumented_AndMatchTheirSchemas()
    {
        using var directory = new TempDirectory();
        await using var server = await InProcessServer.StartAsync(
            "--TaskSystem:ConnectionString", directory.SqliteConnectionString,
            "--TaskSystem:ApiKeys:0", Key,
            "--TaskSystem:ExternalTypes:0", "word-count");
        using (var anonymous = await server.Client.GetAsync(new Uri(DocumentPath, UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        server.Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        using var json = JsonDocument.Parse(await server.Client.GetStringAsync(new Uri(DocumentPath, UriKind.Relative)));
        var document = json.RootElement;
        var checker = new OpenApiSchemaChecker(document);
        var failures = new List<string>();
        var answered = new HashSet<string>();

        foreach (var item in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in item.Value.EnumerateObject())
            {
                var method = new HttpMethod(operation.Name.ToUpperInvariant());
                var hasBody = operation.Value.TryGetProperty("requestBody", out var body);
                var example = hasBody ? body.GetProperty("content").GetProperty("application/json").GetProperty("example").GetRawText() : null;
                var probes = new List<(string Name, string Path, string? Body, bool WithKey)>
                {
                    ("as documented", item.Name.Replace("{id}", (await CreateTaskAsync(server)).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), example, true),
                };
                if (item.Name.Contains("{id}", StringComparison.Ordinal))
                {
                    probes.Add(("an unknown id", item.Name.Replace("{id}", "999999999", StringComparison.Ordinal), example, true));
                }

                if (hasBody)
                {
                    probes.Add(("a body that is not an object", probes[0].Path, "[1]", true));
                }

                if (operation.Value.TryGetProperty("security", out _))
                {
                    probes.Add(("no API key", probes[0].Path, example, false));
                }

                foreach (var (name, path, content, withKey) in probes)
                {
                    var where = $"{method} {path} ({name})";
                    using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
                    if (content is not null)
                    {
                        request.Content = new StringContent(content, Encoding.UTF8, "application/json");
                    }

                    if (!withKey)
                    {
                        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-key");
                    }

                    using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                    using var response = await server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
                    var status = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    answered.Add($"{operation.Name} {item.Name} {status}");
                    if (!operation.Value.GetProperty("responses").TryGetProperty(status, out var documented))
                    {
                        failures.Add($"{where}: answered {status}, which the document does not list");
                        continue;
                    }

                    var mediaType = response.Content.Headers.ContentType?.MediaType;
                    if (!documented.TryGetProperty("content", out var media) || method == HttpMethod.Head)
                    {
                        continue;
                    }

                    if (mediaType is null || !media.TryGetProperty(mediaType, out var described))
                    {
                        failures.Add($"{where}: answered {status} as {mediaType ?? "no content"}, not as documented ({string.Join(", ", media.EnumerateObject().Select(m => m.Name))})");
                        continue;
                    }

                    if (mediaType == "text/event-stream")
                    {
                        continue; // A stream never ends: its status and type are its contract here.
                    }

                    var text = await response.Content.ReadAsStringAsync(deadline.Token);
                    using var answer = JsonDocument.Parse(text);
                    failures.AddRange(checker.Check(answer.RootElement, described.GetProperty("schema")).Select(error => $"{where}: {error}"));
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));

        // The probes reached the answers that matter, not only 401s and 404s.
        Assert.Contains("post /tasks 201", answered);
        Assert.Contains("get /tasks/{id} 200", answered);
        Assert.Contains("post /workers/claim 200", answered);
        Assert.Contains("post /tasks 400", answered);
        Assert.Contains("get /tasks/{id} 404", answered);
        Assert.Contains("delete /tasks/{id} 204", answered);
        Assert.Contains(answered, a => a.StartsWith("post /tasks/{id}/heartbeat 4", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Reference_PageAndKeyScriptAreOpen_TheDocumentItReadsNeedsTheKey()
    {
        using var directory = new TempDirectory();
        await using var server = await InProcessServer.StartAsync("--TaskSystem:ConnectionString", directory.SqliteConnectionString, "--TaskSystem:ApiKeys:0", Key);

        var page = await server.Client.GetStringAsync(new Uri("/docs/", UriKind.Relative));
        Assert.Contains("openapi/v1.json", page, StringComparison.Ordinal);
        Assert.Contains("docs/api-key.js", page, StringComparison.Ordinal);
        var script = await server.Client.GetStringAsync(new Uri("/docs/api-key.js", UriKind.Relative));
        Assert.Contains("customFetch", script, StringComparison.Ordinal);
        Assert.Contains("tasksystem.apiKey", script, StringComparison.Ordinal);
        using var scalar = await server.Client.GetAsync(new Uri("/docs/scalar.js", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, scalar.StatusCode);
        using var document = await server.Client.GetAsync(new Uri(DocumentPath, UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, document.StatusCode);
    }

    /// <summary>A task that runs for a minute: present for every probe, and stoppable.</summary>
    private static async Task<long> CreateTaskAsync(InProcessServer server)
    {
        using var response = await server.Client.PostAsync(new Uri("/tasks", UriKind.Relative),
            new StringContent("""{"type": "demo", "payload": {"durationMs": 60000}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var task = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return task.RootElement.GetProperty("id").GetInt64();
    }

    /// <summary>The path as the document writes it: the route's pattern with one leading slash and no trailing one.</summary>
    private static string PathOf(RouteEndpoint endpoint) => "/" + endpoint.RoutePattern.RawText!.Trim('/');
}
