using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;
using TaskSystem.Dashboard.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace TaskSystem.Dashboard.Tests;

/// <summary>
/// An http task as docs/http-targets.md tells a new user to watch it: the first attempt answered 503 with Retry-After,
/// the second running, then succeeded, with what the target answered as the result, all on the task's page, live.
/// </summary>
[Collection(DashboardFixtures.Name)]
public sealed class HttpTargetTaskTests(Browser browser) : IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Each test's pages close with it, so that they stop following the live stream.</summary>
    public Task DisposeAsync() => browser.ClosePagesAsync();

    [Fact]
    public async Task TaskPage_ShowsTheRetryOfA503_ThenTheSuccessAndWhatTheTargetAnswered()
    {
        var secondAttempt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var receiver = await TargetReceiver.StartAsync(async (context, request) =>
        {
            context.Response.ContentType = "application/json";
            if (request.Header("TaskSystem-Attempt") == "1")
            {
                context.Response.StatusCode = 503;
                context.Response.Headers.RetryAfter = "1";
                await context.Response.WriteAsync("""{"error": "busy"}""");
                return;
            }

            // Held until the page has shown the second attempt running, so that the test sees each step.
            secondAttempt.TrySetResult();
            await release.Task.WaitAsync(context.RequestAborted);
            await context.Response.WriteAsync("""{"thanks": "welcome sent"}""");
        });
        using var directory = new TempDirectory();
        await using var server = await ServerProcess.StartAsync(
            "--TaskSystem:ConnectionString", directory.SqliteConnectionString,
            "--TaskSystem:Http:AllowedTargets:0", receiver.Url("hooks/"),
            "--TaskSystem:Http:AllowPrivateNetworks", "true");

        using var created = await server.Client.PostAsync(new Uri("/tasks", UriKind.Relative),
            new StringContent($$"""{"type": "http", "payload": {"url": "{{receiver.Url("hooks/welcome")}}", "body": {"user": 42} } }"""));
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        await secondAttempt.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var page = await browser.NewPageAsync(server.Address);
        await page.GotoAsync($"/#/tasks/{id}");
        var badge = page.Locator(".title-badge");
        await Expect(badge).ToHaveTextAsync("running");
        await Expect(page.Locator(".facts")).ToContainTextAsync("2 of 3");
        await Expect(page.Locator("table.attempts")).ToContainTextAsync($$"""POST {{receiver.Url("hooks/welcome")}} answered 503 Service Unavailable: {"error": "busy"}""");

        release.SetResult();

        await Expect(badge).ToHaveTextAsync("succeeded");
        await Expect(page.Locator("table.attempts tbody tr")).ToHaveCountAsync(2);
        var result = page.GetByRole(AriaRole.Region, new() { Name = "Result" });
        await Expect(result).ToContainTextAsync("\"status\": 200");
        await Expect(result).ToContainTextAsync("\"thanks\": \"welcome sent\"");
        Assert.Empty(browser.ConsoleErrors(page));
    }
}
