using Microsoft.Playwright;
using TaskSystem.Dashboard.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace TaskSystem.Dashboard.Tests;

/// <summary>
/// The page's side of API keys. The browser plays a server that wants "Bearer s3cret" on every data request
/// (answering 401 problem+json otherwise, static files open) by intercepting requests, so this checks what the
/// page does whatever the server's own key settings are: it asks, keeps the key for the tab, sends it everywhere.
/// </summary>
[Collection(DashboardFixtures.Name)]
public sealed class ApiKeyPromptTests(Browser browser, DashboardServer server, KeyedServer keyedServer) : IAsyncLifetime
{
    private const string Key = "s3cret";

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Each test's pages close with it, so that they stop following the live stream.</summary>
    public Task DisposeAsync() => browser.ClosePagesAsync();

    [Fact]
    public async Task Page_ServerWantsAKey_ShowsNothingUntilGivenOne_ThenSendsItOnEveryRequestForTheSession()
    {
        // At least one task, so that the task list has a table to show whatever ran before.
        await server.EnqueueAsync("""{"type": "demo", "payload": {"durationMs": 0}}""");
        var page = await browser.NewPageAsync(server.Address);
        var withoutKey = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var withKey = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await page.Context.RouteAsync(url => IsDataRequest(url), async route =>
        {
            var path = new Uri(route.Request.Url).AbsolutePath;
            if (route.Request.Headers.TryGetValue("authorization", out var authorization) && authorization == $"Bearer {Key}")
            {
                withKey.Enqueue(path);
                await route.ContinueAsync();
                return;
            }

            withoutKey.Enqueue(path);
            await route.FulfillAsync(new RouteFulfillOptions
            {
                Status = 401,
                ContentType = "application/problem+json",
                Body = """{"status": 401, "title": "Unauthorized", "detail": "An API key is required: send Authorization: Bearer KEY."}""",
            });
        });

        await page.GotoAsync("/");
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "API key needed" });
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(page.GetByLabel("API key", new() { Exact = true })).ToBeFocusedAsync();

        // Declined: nothing is shown, and the page says why.
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("needs an API key");
        await Expect(page.Locator(".state-card-count")).ToHaveCountAsync(0);
        await Expect(page.Locator("#connection")).ToHaveTextAsync("API key needed");

        // A wrong key is refused and asked for again.
        await page.GetByRole(AriaRole.Button, new() { Name = "Enter an API key" }).ClickAsync();
        await page.GetByLabel("API key", new() { Exact = true }).FillAsync("wrong");
        await page.GetByLabel("API key", new() { Exact = true }).PressAsync("Enter");
        await Expect(dialog.Locator("#key-error")).ToHaveTextAsync("The server refused that key.");

        await page.GetByLabel("API key", new() { Exact = true }).FillAsync(Key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Use this key" }).ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        await Expect(page.Locator("#connection")).ToHaveTextAsync("Live");
        await Expect(page.Locator(".state-card-count[data-state='all']")).ToBeVisibleAsync();
        Assert.Equal(Key, await page.EvaluateAsync<string>("() => sessionStorage.getItem('tasksystem.apiKey')"));
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Forget key" })).ToBeVisibleAsync();

        // Kept for the session: a reload asks nothing, and every kind of request carries the key.
        var refusedBefore = withoutKey.Count;
        await page.ReloadAsync();
        await Expect(page.Locator("#connection")).ToHaveTextAsync("Live");
        await page.GotoAsync("/#/tasks?state=all");
        await Expect(page.Locator("table.tasks")).ToBeVisibleAsync();
        await page.GotoAsync("/#/new");
        await Expect(page.GetByLabel("Type", new() { Exact = true })).ToHaveValueAsync("demo");
        await Expect(dialog).ToBeHiddenAsync();
        Assert.Equal(refusedBefore, withoutKey.Count);
        Assert.Contains("/dashboard/api/events", withKey);
        Assert.Contains("/dashboard/api/handlers", withKey);
        Assert.Contains("/tasks", withKey);

        // Forgetting the key locks the page again.
        await page.GetByRole(AriaRole.Button, new() { Name = "Forget key" }).ClickAsync();
        await Expect(dialog).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Page_OnAServerWithAKey_ServesItsFilesOpenly_AsksForTheKey_ThenGoesLive()
    {
        const string RealKey = KeyedServer.Key;
        var keyed = await keyedServer.StartedAsync();
        using (var page = await keyed.Client.GetAsync(new Uri("/", UriKind.Relative)))
        using (var events = await keyed.Client.GetAsync(new Uri("/dashboard/api/events", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, page.StatusCode);
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, events.StatusCode);
        }

        var browserPage = await browser.NewPageAsync(keyed.Address);
        await browserPage.GotoAsync("/");
        var dialog = browserPage.GetByRole(AriaRole.Dialog, new() { Name = "API key needed" });
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(browserPage.Locator(".state-card-count")).ToHaveCountAsync(0);

        await browserPage.GetByLabel("API key", new() { Exact = true }).FillAsync(RealKey);
        await browserPage.GetByRole(AriaRole.Button, new() { Name = "Use this key" }).ClickAsync();

        await Expect(dialog).ToBeHiddenAsync();
        await Expect(browserPage.Locator("#connection")).ToHaveTextAsync("Live");
        await Expect(browserPage.Locator(".state-card-count[data-state='all']")).ToBeVisibleAsync();
    }

    private static bool IsDataRequest(string url)
    {
        var path = new Uri(url).AbsolutePath;
        return path.StartsWith("/tasks", StringComparison.Ordinal) || path.StartsWith("/dashboard/api/", StringComparison.Ordinal);
    }
}
