using System.Text.RegularExpressions;
using Microsoft.Playwright;
using TaskSystem.Dashboard.Tests.Support;
using TaskSystem.TestSupport;
using static Microsoft.Playwright.Assertions;

namespace TaskSystem.Dashboard.Tests;

/// <summary>The controls for steering work: a running task's progress bar, and pausing a queue from the overview.</summary>
[Collection(DashboardFixtures.Name)]
public sealed partial class SteeringTests(Browser browser, DashboardServer server) : IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Each test's pages close with it, so that they stop following the live stream.</summary>
    public Task DisposeAsync() => browser.ClosePagesAsync();

    [Fact]
    public async Task RunningTask_ShowsAProgressBar_InTheListAndOnItsPage_ThatMovesLive()
    {
        var id = await server.EnqueueAsync("""{"type": "demo", "queue": "progress-bar", "payload": {"durationMs": 600000}}""");
        await server.WaitForStateAsync(id, "running");
        var page = await browser.NewPageAsync(server.Address);

        await page.GotoAsync("/#/tasks?state=running");
        await Expect(page.Locator($"tr[data-id='{id}'] .progress progress")).ToBeVisibleAsync();
        await page.GotoAsync($"/#/tasks/{id}");
        var bar = page.Locator(".facts .progress progress");
        await Expect(bar).ToBeVisibleAsync();
        await Expect(page.Locator(".facts .progress-text")).ToContainTextAsync(new Regex("slept [0-9]+ of 600000 ms"));
        var first = await bar.GetAttributeAsync("value");

        // The demo handler reports as it sleeps; the stream brings each report to the open page without a reload.
        await Expect(bar).Not.ToHaveAttributeAsync("value", first!, new() { Timeout = 15_000 });
        await Expect(bar).ToHaveAttributeAsync("aria-label", new Regex(@"^Progress [0-9.]+%$"));

        using var stop = await server.Client.DeleteAsync(new Uri($"/tasks/{id}", UriKind.Relative));
        Assert.Empty(browser.ConsoleErrors(page));
    }

    [Fact]
    public async Task PauseButton_HoldsTheQueue_AndResumeRunsItsTasks()
    {
        var first = await server.EnqueueAsync("""{"type": "demo", "queue": "dash-pause", "payload": {"durationMs": 0}}""");
        await server.WaitForStateAsync(first, "succeeded");
        var page = await browser.NewPageAsync(server.Address);
        await page.GotoAsync("/");
        var row = page.Locator("tr[data-queue='dash-pause']");

        await row.GetByRole(AriaRole.Button, new() { Name = "Pause queue dash-pause" }).ClickAsync();

        await Expect(row).ToHaveAttributeAsync("data-paused", "true");
        await Expect(row.Locator(".tag.paused")).ToHaveTextAsync("paused");
        var held = await server.EnqueueAsync("""{"type": "demo", "queue": "dash-pause", "payload": {"durationMs": 0}}""");
        var other = await server.EnqueueAsync("""{"type": "demo", "queue": "dash-free", "payload": {"durationMs": 0}}""");
        await server.WaitForStateAsync(other, "succeeded");
        Assert.Equal("queued", (await server.GetTaskAsync(held)).GetProperty("state").GetString());

        await row.GetByRole(AriaRole.Button, new() { Name = "Resume queue dash-pause" }).ClickAsync();

        await server.WaitForStateAsync(held, "succeeded");
        await Expect(row).ToHaveAttributeAsync("data-paused", "false");
        Assert.Empty(browser.ConsoleErrors(page));
    }

    [Fact]
    public async Task BulkRetry_OfSelectedTasks_AsksForConfirmation_ThenQueuesThemAgain()
    {
        var queue = "dash-bulk-" + Guid.NewGuid().ToString("N")[..6];
        var ids = new List<long>();
        for (var i = 0; i < 2; i++)
        {
            ids.Add(await server.EnqueueAsync($$$"""{"type": "demo", "queue": "{{{queue}}}", "maxAttempts": 1, "payload": {"durationMs": 0, "failAttempts": 5}}"""));
        }

        foreach (var id in ids)
        {
            await server.WaitForStateAsync(id, "failed");
        }

        var page = await browser.NewPageAsync(server.Address);
        string? asked = null;
        page.Dialog += async (_, dialog) =>
        {
            asked = dialog.Message;
            await dialog.AcceptAsync();
        };
        await page.GotoAsync($"/#/tasks?state=failed&queue={queue}");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Retry selected" })).ToBeDisabledAsync();

        await page.GetByLabel("Select every task on this page").CheckAsync();
        await Expect(page.Locator(".bulk-bar")).ToContainTextAsync("2 selected");
        await page.GetByRole(AriaRole.Button, new() { Name = "Retry selected" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "2 of 2 selected tasks queued again." })).ToBeVisibleAsync();
        Assert.StartsWith("Retry 2 tasks?", asked, StringComparison.Ordinal);
        foreach (var id in ids)
        {
            // Retried with a fresh attempt, which fails again: the attempt count shows it ran once more.
            await Eventually.Until(() => server.GetTaskAsync(id), t => t.GetProperty("state").GetString() == "failed" && t.GetProperty("errors").GetArrayLength() == 2,
                because: "the retried task ran again");
        }

        Assert.Empty(browser.ConsoleErrors(page));
    }
}
