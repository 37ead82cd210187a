using System.Text.RegularExpressions;
using Microsoft.Playwright;
using TaskSystem.Dashboard.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace TaskSystem.Dashboard.Tests;

/// <summary>The overview, the list and a task on a wide screen and a phone, light and dark; the screenshots for the docs.</summary>
[Collection(DashboardFixtures.Name)]
public sealed class OverviewTests(Browser browser, DashboardServer server) : IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Each test's pages close with it, so that they stop following the live stream.</summary>
    public Task DisposeAsync() => browser.ClosePagesAsync();

    [Fact]
    public async Task Overview_ShowsCountsThroughputQueuesAndNodes_InLightDarkAndOnAPhone()
    {
        var (running, failed) = await SeedAsync();
        var page = await browser.NewPageAsync(server.Address);
        await page.GotoAsync("/");

        await Expect(page.Locator("#connection")).ToHaveTextAsync("Live");
        await Expect(page.Locator(".state-card-count[data-state='failed']")).Not.ToHaveTextAsync("0");
        await Expect(page.Locator(".state-card-count[data-state='running']")).Not.ToHaveTextAsync("0");
        await Expect(page.Locator(".legend")).ToContainTextAsync(new Regex(@"Succeeded [1-9]"));
        await Expect(page.Locator(".chart .bar-succeeded").First).ToBeVisibleAsync();
        await Expect(page.Locator(".nodes")).ToContainTextAsync("web-1");
        await Expect(page.Locator(".nodes")).ToContainTextAsync(new Regex(@"[1-9]\d* of 8 workers busy"));
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Tasks per queue and state" })).ToContainTextAsync("emails");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Overview" })).ToHaveAttributeAsync("aria-current", "page");
        await Screenshots.SaveAsync(page, "overview-light");

        // The toggle overrides the system's choice, and the choice survives a reload.
        await page.GetByRole(AriaRole.Button, new() { Name = "Switch to the dark theme" }).ClickAsync();
        await Expect(page.Locator("html")).ToHaveAttributeAsync("data-theme", "dark");
        await page.ReloadAsync();
        await Expect(page.Locator("html")).ToHaveAttributeAsync("data-theme", "dark");
        await Expect(page.Locator(".chart .bar-succeeded").First).ToBeVisibleAsync();
        Assert.Equal("rgb(15, 17, 21)", await page.EvaluateAsync<string>("() => getComputedStyle(document.body).backgroundColor"));
        await Screenshots.SaveAsync(page, "overview-dark");

        await page.GotoAsync("/#/tasks?state=all");
        await Expect(page.Locator($"tr[data-id='{failed}'] .badge")).ToHaveTextAsync("failed");
        await Expect(page.Locator(".chip-count").First).Not.ToBeEmptyAsync();
        await Screenshots.SaveAsync(page, "tasks-dark", fullPage: false);
        await page.GotoAsync($"/#/tasks/{failed}");
        await Expect(page.Locator(".title-badge")).ToHaveTextAsync("failed");
        await Screenshots.SaveAsync(page, "task-failed-dark");

        // A system that prefers dark gets dark without the toggle.
        var dark = await browser.NewPageAsync(server.Address, colorScheme: ColorScheme.Dark);
        await dark.GotoAsync("/#/tasks?state=all");
        await Expect(dark.Locator($"tr[data-id='{running}'] .badge")).ToHaveTextAsync("running");
        Assert.Equal("rgb(15, 17, 21)", await dark.EvaluateAsync<string>("() => getComputedStyle(document.body).backgroundColor"));

        // A phone: the nav stays usable, rows become cards, nothing scrolls sideways.
        var phone = await browser.NewPageAsync(server.Address, Viewports.Phone);
        await phone.GotoAsync("/");
        await Expect(phone.Locator(".state-card-count[data-state='failed']")).Not.ToHaveTextAsync("0");
        await Expect(phone.Locator(".chart .bar-succeeded").First).ToBeVisibleAsync();
        await AssertNoSidewaysScrollAsync(phone);
        await Screenshots.SaveAsync(phone, "overview-phone", fullPage: false);
        await phone.GetByRole(AriaRole.Link, new() { Name = "Tasks", Exact = true }).ClickAsync();
        await Expect(phone.Locator($"tr[data-id='{failed}'] .badge")).ToHaveTextAsync("failed");
        await AssertNoSidewaysScrollAsync(phone);
        await Expect(phone.Locator(".chip-count").First).Not.ToBeEmptyAsync();
        await Screenshots.SaveAsync(phone, "tasks-phone", fullPage: false);

        // The wide list, light, for the docs.
        var wide = await browser.NewPageAsync(server.Address);
        await wide.GotoAsync("/#/tasks?state=all");
        await Expect(wide.Locator($"tr[data-id='{running}'] .badge")).ToHaveTextAsync("running");
        await Expect(wide.Locator(".chip-count").First).Not.ToBeEmptyAsync();
        await Screenshots.SaveAsync(wide, "tasks-light", fullPage: false);

        Assert.Empty(browser.ConsoleErrors(page));
        Assert.Empty(browser.ConsoleErrors(phone));
    }

    [Fact]
    public async Task Keyboard_ReachesNavigationFiltersAndActions_WithVisibleFocus()
    {
        var id = await server.EnqueueAsync("""{"type": "demo", "payload": {"durationMs": 600000}, "queue": "keyboard"}""");
        await server.WaitForStateAsync(id, "running");
        var page = await browser.NewPageAsync(server.Address);
        await page.GotoAsync("/");
        await Expect(page.Locator("#connection")).ToHaveTextAsync("Live");

        // The first Tab reaches the skip link, which moves focus to the content.
        await page.Keyboard.PressAsync("Tab");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Skip to content" })).ToBeFocusedAsync();
        Assert.NotEqual("none", await page.EvaluateAsync<string>("() => getComputedStyle(document.activeElement).outlineStyle"));

        // Tab to the Tasks link and open it with Enter; focus moves to the new page's content.
        await TabUntilFocusedAsync(page, page.GetByRole(AriaRole.Link, new() { Name = "Tasks", Exact = true }));
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("main")).ToBeFocusedAsync();
        var stop = page.GetByRole(AriaRole.Button, new() { Name = $"Stop task {id}" });
        await Expect(stop).ToBeVisibleAsync();

        // Every control is a real button or link: Tab reaches the row's Stop, Enter presses it.
        await TabUntilFocusedAsync(page, stop);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator($"tr[data-id='{id}'] .badge")).ToHaveTextAsync("cancelled");
        await Expect(page.Locator("#announcer")).ToHaveTextAsync($"Task {id} stopped.");
    }

    /// <summary>Tasks in every state, in three queues: what a working system shows.</summary>
    private async Task<(long Running, long Failed)> SeedAsync()
    {
        foreach (var (queue, duration) in new[] { ("default", 10), ("emails", 30), ("reports", 60), ("default", 20), ("emails", 5), ("default", 0) })
        {
            await server.EnqueueAsync($$"""{"type": "demo", "payload": {"durationMs": {{duration}}}, "queue": "{{queue}}"}""");
        }

        var failed = await server.EnqueueAsync("""{"type": "demo", "payload": {"durationMs": 5, "failAttempts": 2}, "maxAttempts": 2, "queue": "emails"}""");
        var cancelled = await server.EnqueueAsync("""{"type": "demo", "payload": {"durationMs": 60000}, "queue": "reports", "runAt": "2100-01-01T00:00:00Z"}""");
        await server.EnqueueAsync("""{"type": "demo", "payload": {"durationMs": 60000}, "queue": "reports", "runAt": "2100-01-01T00:00:00Z"}""");
        var running = await server.EnqueueAsync("""{"type": "demo", "payload": {"durationMs": 600000, "report": "monthly"}, "queue": "reports"}""");
        await server.EnqueueAsync("""{"type": "demo", "payload": {"durationMs": 600000, "to": "jean@example.com"}, "queue": "emails"}""");
        using (await server.Client.DeleteAsync(new Uri($"/tasks/{cancelled}", UriKind.Relative)))
        {
        }

        await server.WaitForStateAsync(failed, "failed");
        await server.WaitForStateAsync(running, "running");
        return (running, failed);
    }

    private static async Task AssertNoSidewaysScrollAsync(IPage page) =>
        Assert.True(
            await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"),
            "the page scrolls sideways on a phone");

    private static async Task TabUntilFocusedAsync(IPage page, ILocator target)
    {
        for (var presses = 0; presses < 80; presses++)
        {
            if (await target.EvaluateAsync<bool>("element => element === document.activeElement"))
            {
                return;
            }

            await page.Keyboard.PressAsync("Tab");
        }

        Assert.Fail("Tab never reached the control");
    }
}
