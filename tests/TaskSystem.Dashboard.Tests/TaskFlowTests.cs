using System.Text.RegularExpressions;
using Microsoft.Playwright;
using TaskSystem.Dashboard.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace TaskSystem.Dashboard.Tests;

/// <summary>What a person does with the dashboard: enqueue, watch, stop, retry, with the page updating live.</summary>
[Collection(DashboardFixtures.Name)]
public sealed partial class TaskFlowTests(Browser browser, DashboardServer server) : IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Each test's pages close with it, so that they stop following the live stream.</summary>
    public Task DisposeAsync() => browser.ClosePagesAsync();

    [Fact]
    public async Task EnqueueForm_ValidTask_ShowsItRunning_ThenStopShowsItCancelled()
    {
        var page = await browser.NewPageAsync(server.Address);
        await page.GotoAsync("/#/new");
        await Expect(page.GetByLabel("Type", new() { Exact = true })).ToHaveValueAsync("demo");

        await page.GetByLabel("Payload (JSON object)").FillAsync("""{"durationMs": 600000, "note": "from the form"}""");
        await page.GetByLabel("Queue", new() { Exact = true }).FillAsync("browser");
        await page.GetByRole(AriaRole.Button, new() { Name = "Enqueue" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(TaskUrl());
        var id = long.Parse(TaskUrl().Match(page.Url).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var badge = page.Locator(".title-badge");
        await Expect(badge).ToHaveTextAsync("running");
        await Expect(page.Locator(".facts")).ToContainTextAsync("browser");
        await Expect(page.Locator("pre.code").First).ToContainTextAsync("from the form");
        await Screenshots.SaveAsync(page, "task-running-light");

        await page.GetByRole(AriaRole.Button, new() { Name = "Stop" }).ClickAsync();

        await Expect(badge).ToHaveTextAsync("cancelled");
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = $"Task {id} stopped." })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Retry" })).ToBeVisibleAsync();
        Assert.Equal("cancelled", (await server.GetTaskAsync(id)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task EnqueueForm_InvalidValues_ShowTheServersMessagesNextToTheFields()
    {
        var page = await browser.NewPageAsync(server.Address);
        await page.GotoAsync("/#/new");
        await Expect(page.GetByLabel("Type", new() { Exact = true })).ToHaveValueAsync("demo");
        var payload = page.GetByLabel("Payload (JSON object)");
        var attempts = page.GetByLabel("Max attempts");
        var enqueue = page.GetByRole(AriaRole.Button, new() { Name = "Enqueue" });

        // The demo handler's own payload check, as the server words it.
        await payload.FillAsync("""{"durationMs": -5}""");
        await enqueue.ClickAsync();
        await Expect(page.Locator("#enqueue-payload-error")).ToHaveTextAsync("payload.durationMs must be an integer between 0 and 86400000 (got -5).");
        await Expect(payload).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(payload).ToBeFocusedAsync();
        await Screenshots.SaveAsync(page, "enqueue-error-light");

        // Another field: the message moves next to it.
        await payload.FillAsync("""{"durationMs": 10}""");
        await attempts.FillAsync("0");
        await enqueue.ClickAsync();
        await Expect(page.Locator("#enqueue-maxAttempts-error")).ToContainTextAsync("maxAttempts must be between 1 and");
        await Expect(page.Locator("#enqueue-payload-error")).ToBeHiddenAsync();
        await Expect(attempts).ToHaveAttributeAsync("aria-describedby", new Regex("enqueue-maxAttempts-error"));

        // JSON the browser cannot parse never leaves it.
        await attempts.FillAsync("");
        await payload.FillAsync("{not json");
        await enqueue.ClickAsync();
        await Expect(page.Locator("#enqueue-payload-error")).ToContainTextAsync("The payload is not valid JSON");
        Assert.Equal("/#/new", new Uri(page.Url).PathAndQuery + new Uri(page.Url).Fragment);
    }

    [Fact]
    public async Task TaskDetail_RetryFailedTask_RunsAgainAndKeepsBothErrors()
    {
        var id = await server.EnqueueAsync("""{"type": "demo", "payload": {"durationMs": 1500, "failAttempts": 1}, "maxAttempts": 1}""");
        await server.WaitForStateAsync(id, "failed");
        var page = await browser.NewPageAsync(server.Address);
        await page.GotoAsync($"/#/tasks/{id}");
        var badge = page.Locator(".title-badge");
        await Expect(badge).ToHaveTextAsync("failed");
        await Expect(page.Locator("table.attempts")).ToContainTextAsync("demo failure on attempt 1");
        await Screenshots.SaveAsync(page, "task-failed-light");

        await page.GetByRole(AriaRole.Button, new() { Name = "Retry" }).ClickAsync();

        // Back in the queue, running again (live, no reload), and failed again: its history keeps both attempts.
        await Expect(badge).ToHaveTextAsync("running");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Stop" })).ToBeVisibleAsync();
        await Expect(badge).ToHaveTextAsync("failed");
        await Expect(page.Locator("table.attempts tbody tr")).ToHaveCountAsync(2);
        Assert.Equal(2, (await server.GetTaskAsync(id)).GetProperty("errors").GetArrayLength());
    }

    [Fact]
    public async Task TaskDetail_RetryThatFails_SaysWhy_AndTheButtonCanBePressedAgain()
    {
        var id = await server.EnqueueAsync("""{"type": "demo", "payload": {"durationMs": 0, "failAttempts": 1}, "maxAttempts": 1}""");
        await server.WaitForStateAsync(id, "failed");
        var page = await browser.NewPageAsync(server.Address);
        await page.GotoAsync($"/#/tasks/{id}");
        await Expect(page.Locator(".title-badge")).ToHaveTextAsync("failed");
        var retry = page.GetByRole(AriaRole.Button, new() { Name = "Retry" });

        // The request cannot reach the server: the action fails and the task stays as it was.
        await page.Context.SetOfflineAsync(true);
        await retry.ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = $"Task {id} could not be retried" })).ToBeVisibleAsync();
        await Expect(retry).ToBeEnabledAsync();
        await Expect(retry).ToHaveTextAsync("Retry");
        Assert.Equal("failed", (await server.GetTaskAsync(id)).GetProperty("state").GetString());

        await page.Context.SetOfflineAsync(false);
        await retry.ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = $"Task {id} is queued again." })).ToBeVisibleAsync();
        await Eventually.Until(() => server.GetTaskAsync(id), t => t.GetProperty("errors").GetArrayLength() == 2, TimeSpan.FromSeconds(20), "the retried attempt to run");
    }

    [Fact]
    public async Task TaskList_NewAndChangedTasks_AppearWithoutReload()
    {
        var page = await browser.NewPageAsync(server.Address);
        await page.GotoAsync("/#/tasks?state=all");
        await Expect(page.Locator("#connection")).ToHaveTextAsync("Live");
        await page.EvaluateAsync("() => { window.notReloaded = true; }");

        var id = await server.EnqueueAsync("""{"type": "demo", "payload": {"durationMs": 1200}, "queue": "live"}""");

        var row = page.Locator($"tr[data-id='{id}']");
        await Expect(row).ToBeVisibleAsync(new() { Timeout = 3000 });
        await Expect(row.Locator(".badge")).ToHaveTextAsync("running");
        await Expect(row.Locator(".badge")).ToHaveTextAsync("succeeded");
        Assert.True(await page.EvaluateAsync<bool>("() => window.notReloaded === true"), "the page reloaded");

        // Filters: by state and queue, from the chips and the form.
        await page.GetByRole(AriaRole.Link, new() { Name = "succeeded" }).First.ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("state=succeeded"));
        await page.GetByLabel("Queue", new() { Exact = true }).FillAsync("live");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply filters" }).ClickAsync();
        await Expect(page.Locator("tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator($"tr[data-id='{id}']")).ToBeVisibleAsync();

        // Find by id.
        await page.GetByLabel("Find by id").FillAsync(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.GetByLabel("Find by id").PressAsync("Enter");
        await Expect(page).ToHaveURLAsync(new Regex($"#/tasks/{id}$"));
        await Expect(page.Locator(".title-badge")).ToHaveTextAsync("succeeded");
        Assert.Empty(browser.ConsoleErrors(page));
    }

    [GeneratedRegex(@"#/tasks/(\d+)$")]
    private static partial Regex TaskUrl();
}
