using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using TaskSystem.Samples.AspNetCore;
using TaskSystem.Tests.Support;

namespace TaskSystem.Server.Tests.Embedding;

/// <summary>
/// samples/TaskSystem.Samples.AspNetCore end to end over real HTTP (Kestrel on loopback): its own sign-in guards
/// TaskSystem's API and dashboard, its own endpoint enqueues, its own typed handler runs, and a failed attempt
/// comes back with its stack trace.
/// </summary>
public sealed class SampleAppTests : IAsyncLifetime
{
    private const string Password = "correct horse battery staple";
    private readonly TempDirectory _directory = new();
    private WebApplication _app = null!;
    private Uri _address = null!;

    public async Task InitializeAsync()
    {
        _app = SampleApplication.Create(
        [
            "--urls", "http://127.0.0.1:0",
            "--environment", "Production",
            "--TaskSystem:ConnectionString", _directory.SqliteConnectionString,
            "--TaskSystem:NodeName", "sample",
            "--TaskSystem:RetryBaseDelay", "00:00:00.050",
            "--TaskSystem:RetryMaxDelay", "00:00:00.100",
            "--Sample:OperatorPassword", Password,
            "--Logging:LogLevel:Default", "Warning",
        ]);
        await _app.StartAsync();
        _address = new Uri(_app.Urls.First());
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task Anonymous_IsSentToTheAppsSignIn_FromTheDashboard_AndRefusedByTheApi()
    {
        using var client = Client();

        using var page = await client.GetAsync(new Uri("/jobs/", UriKind.Relative));
        using var api = await client.GetAsync(new Uri("/api/tasks", UriKind.Relative));
        using var wrong = await SignInAsync(client, "wrong");

        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("/login", page.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode); // an API gets a status, not a redirect
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
    }

    [Fact]
    public async Task Operator_EnqueuesThroughTheAppsEndpoint_TheTypedHandlerRuns_AndFailuresShowTheirStackTrace()
    {
        using var client = Client();
        using var signedIn = await SignInAsync(client, Password);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);

        using var good = await client.PostAsJsonAsync("/reports", new { customer = "acme", year = 2026, month = 11 });
        using var bad = await client.PostAsJsonAsync("/reports", new { customer = "acme", year = 2026, month = 13 });
        using var unfit = await client.PostAsJsonAsync("/api/tasks", new { type = "generate-report", payload = new { customer = "acme", month = "june" } });
        var goodId = (await good.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("taskId").GetInt64();
        var badId = (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("taskId").GetInt64();
        var succeeded = await WaitForStateAsync(client, goodId, "succeeded");
        var failed = await WaitForStateAsync(client, badId, "failed");
        using var dashboard = await client.GetAsync(new Uri("/jobs/", UriKind.Relative));
        var handlers = await client.GetFromJsonAsync<JsonElement>("/jobs/dashboard/api/handlers");

        Assert.Equal(HttpStatusCode.Accepted, good.StatusCode);
        Assert.Equal("2026-11", succeeded.GetProperty("result").GetProperty("period").GetString());
        Assert.Equal(2, failed.GetProperty("maxAttempts").GetInt32());
        var errors = failed.GetProperty("errors").EnumerateArray().ToList();
        Assert.Equal(2, errors.Count);
        Assert.All(errors, e => Assert.Contains("GenerateReportHandler.HandleAsync", e.GetProperty("stackTrace").GetString(), StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.BadRequest, unfit.StatusCode);
        Assert.Equal("payload", (await unfit.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Contains("content=\"/api/tasks\"", await dashboard.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("generate-report", handlers.GetProperty("types")[0].GetString());
        Assert.Equal("Healthy", await client.GetStringAsync(new Uri("/healthz", UriKind.Relative)));
    }

    private HttpClient Client() =>
        new(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = _address };

    private static Task<HttpResponseMessage> SignInAsync(HttpClient client, string password) =>
        client.PostAsync(new Uri("/login", UriKind.Relative), new FormUrlEncodedContent([new("name", "ops"), new("password", password)]));

    private static Task<JsonElement> WaitForStateAsync(HttpClient client, long id, string state) =>
        Eventually.Until(
            () => client.GetFromJsonAsync<JsonElement>($"/api/tasks/{id}"),
            t => t.GetProperty("state").GetString() == state,
            TimeSpan.FromSeconds(20),
            $"task {id} to be {state}");
}
