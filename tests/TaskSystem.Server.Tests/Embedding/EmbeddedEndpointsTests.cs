using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TaskSystem.Tests.Support;

namespace TaskSystem.Server.Tests.Embedding;

/// <summary>
/// The API and the dashboard mapped into an app of one's own, under prefixes of its choosing, behind its own
/// authorization; and closed to other machines by default outside Development.
/// </summary>
public sealed class EmbeddedEndpointsTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private readonly List<WebApplication> _apps = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }

        _directory.Dispose();
    }

    [Fact]
    public async Task MappedUnderPrefixes_WithAPolicy_TheOwnAuthDecides_AndEverythingWorks()
    {
        var client = await StartAsync(Environments.Production, app =>
        {
            app.MapTaskSystemApi("/api/jobs", api => api.AuthorizationPolicy = "operators");
            app.MapTaskSystemDashboard("/ops/jobs", dashboard =>
            {
                dashboard.AuthorizationPolicy = "operators";
                dashboard.ApiPath = "/api/jobs";
            });
        });

        using var anonymous = await client.PostAsJsonAsync("/api/jobs", new { type = "echo", payload = new { n = 1 } });
        using var anonymousPage = await client.GetAsync(new Uri("/ops/jobs/", UriKind.Relative));
        client.DefaultRequestHeaders.Add("X-User", "operator");
        using var created = await client.PostAsJsonAsync("/api/jobs", new { type = "echo", payload = new { n = 1 } });
        var task = await created.Content.ReadFromJsonAsync<JsonElement>();
        using var page = await client.GetAsync(new Uri("/ops/jobs/", UriKind.Relative));
        using var redirect = await client.GetAsync(new Uri("/ops/jobs", UriKind.Relative));
        using var script = await client.GetAsync(new Uri("/ops/jobs/dashboard/app.js", UriKind.Relative));
        using var handlers = await client.GetAsync(new Uri("/ops/jobs/dashboard/api/handlers", UriKind.Relative));
        var done = await Eventually.Until(
            async () => await client.GetFromJsonAsync<JsonElement>($"/api/jobs/{task.GetProperty("id").GetInt64()}"),
            t => t.GetProperty("state").GetString() == "succeeded",
            because: "the task runs in the app's own engine");

        Assert.Equal((HttpStatusCode.Forbidden, HttpStatusCode.Forbidden), (anonymous.StatusCode, anonymousPage.StatusCode));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/api/jobs/{task.GetProperty("id").GetInt64()}", created.Headers.Location!.OriginalString);
        Assert.Contains("content=\"/api/jobs\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.Redirect, "/ops/jobs/"), (redirect.StatusCode, redirect.Headers.Location!.OriginalString));
        Assert.Equal("text/javascript", script.Content.Headers.ContentType!.MediaType);
        Assert.Contains("echo", await handlers.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, done.GetProperty("result").GetProperty("n").GetInt32());
    }

    [Fact]
    public async Task OutsideDevelopment_WithoutAPolicy_OnlyLocalRequestsAreServed()
    {
        var remote = await StartAsync(Environments.Production, app =>
        {
            app.Use((context, next) =>
            {
                context.Connection.RemoteIpAddress = IPAddress.Parse("203.0.113.9");
                context.Connection.LocalIpAddress = IPAddress.Parse("10.0.0.2");
                return next(context);
            });
            app.MapTaskSystemApi();
            app.MapTaskSystemDashboard();
        });
        var local = await StartAsync(Environments.Production, app =>
        {
            app.MapTaskSystemApi();
            app.MapTaskSystemDashboard();
        });

        using var refused = await remote.GetAsync(new Uri("/tasks", UriKind.Relative));
        using var refusedPage = await remote.GetAsync(new Uri("/tasksystem/", UriKind.Relative));
        using var served = await local.GetAsync(new Uri("/tasks", UriKind.Relative));
        using var servedPage = await local.GetAsync(new Uri("/tasksystem/", UriKind.Relative));

        Assert.Equal((HttpStatusCode.Forbidden, HttpStatusCode.Forbidden), (refused.StatusCode, refusedPage.StatusCode));
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType!.MediaType);
        Assert.Contains("local requests only", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (served.StatusCode, servedPage.StatusCode));
    }

    [Fact]
    public async Task InDevelopment_WithoutAPolicy_AnyoneIsServed_AndABodyWithoutTypeNeedsOne()
    {
        var client = await StartAsync(Environments.Development, app =>
        {
            app.Use((context, next) =>
            {
                context.Connection.RemoteIpAddress = IPAddress.Parse("203.0.113.9");
                return next(context);
            });
            app.MapTaskSystemApi();
        });

        using var response = await client.PostAsJsonAsync("/tasks", new { n = 1 });
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("type", problem.GetProperty("field").GetString());
    }

    private async Task<HttpClient> StartAsync(string environment, Action<WebApplication> map)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment });
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddTaskSystem(options =>
            {
                options.ConnectionString = $"Data Source={Path.Combine(_directory.Path, Guid.NewGuid().ToString("N"))}.db";
                options.NodeName = "embedded";
            })
            .AddHandler("echo", (context, _) => ValueTask.FromResult<JsonElement?>(context.Payload))
            .AddAspNetCore();
        builder.Services.AddAuthentication("header").AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>("header", null);
        builder.Services.AddAuthorization(options => options.AddPolicy("operators", policy => policy.RequireAuthenticatedUser()));
        var app = builder.Build();
        _apps.Add(app);
        map(app);
        await app.StartAsync();
        return app.GetTestClient();
    }

    /// <summary>The app's own authentication: a user named by a header (what a cookie or a token would do).</summary>
    private sealed class HeaderAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync() =>
            Task.FromResult(Request.Headers.TryGetValue("X-User", out var user)
                ? AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, user!)], "header")), "header"))
                : AuthenticateResult.NoResult());

        protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
        {
            Response.StatusCode = StatusCodes.Status403Forbidden;
            return Task.CompletedTask;
        }

        protected override Task HandleChallengeAsync(AuthenticationProperties properties)
        {
            Response.StatusCode = StatusCodes.Status403Forbidden;
            return Task.CompletedTask;
        }
    }
}
