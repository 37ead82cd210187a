using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using TaskSystem.Dashboard.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace TaskSystem.Dashboard.Tests;

/// <summary>The schedules page: the list, pause and resume, run now, and the way from a tick's task back to its schedule.</summary>
[Collection(DashboardFixtures.Name)]
public sealed class SchedulesPageTests(Browser browser, DashboardServer server) : IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Each test's pages close with it, so that they stop following the live stream.</summary>
    public Task DisposeAsync() => browser.ClosePagesAsync();

    [Fact]
    public async Task SchedulesPage_ListsASchedule_AndItsButtonsPauseAndResumeIt()
    {
        var name = "dash-list-" + Guid.NewGuid().ToString("N")[..6];
        await PutScheduleAsync(name, """{"cron": "0 3 * * *", "timeZone": "Europe/Paris", "type": "demo", "payload": {"durationMs": 0}, "overlap": "skip"}""");
        var page = await browser.NewPageAsync(server.Address);

        await page.GotoAsync("/#/schedules");

        var row = page.Locator($"tr[data-schedule='{name}']");
        await Expect(row).ToContainTextAsync("cron 0 3 * * * (Europe/Paris)");
        await Expect(row).ToContainTextAsync("overlap skip · misfire skip");
        await Expect(row.Locator("td[data-label='Next run'] time")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-nav='schedules']")).ToHaveAttributeAsync("aria-current", "page");

        await row.GetByRole(AriaRole.Button, new() { Name = $"Pause schedule {name}" }).ClickAsync();

        await Expect(row).ToHaveAttributeAsync("data-paused", "true");
        await Expect(row.Locator(".tag.paused")).ToHaveTextAsync("paused");
        Assert.True((await GetScheduleAsync(name)).GetProperty("paused").GetBoolean());

        await row.GetByRole(AriaRole.Button, new() { Name = $"Resume schedule {name}" }).ClickAsync();

        await Expect(row).ToHaveAttributeAsync("data-paused", "false");
        Assert.False((await GetScheduleAsync(name)).GetProperty("paused").GetBoolean());
        Assert.Empty(browser.ConsoleErrors(page));
    }

    [Fact]
    public async Task TicksAndRunNow_MakeTasks_WhoseViewAndListRowLinkBackToTheSchedule()
    {
        var name = "dash-run-" + Guid.NewGuid().ToString("N")[..6];
        await PutScheduleAsync(name, """{"every": "00:00:01", "type": "demo", "payload": {"durationMs": 0}}""");
        try
        {
            var page = await browser.NewPageAsync(server.Address);
            await page.GotoAsync($"/#/schedules/{name}");
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Schedule {name}" })).ToBeVisibleAsync();
            await Expect(page.Locator(".facts")).ToContainTextAsync("every 00:00:01");

            // A tick's task shows up as the schedule's last task, with its outcome; from it, the link leads back.
            var lastTask = page.Locator(".facts .last-task a");
            await Expect(lastTask).ToBeVisibleAsync(new() { Timeout = 20_000 });
            await lastTask.ClickAsync();
            await Expect(page.GetByRole(AriaRole.Heading, new() { NameRegex = new Regex("^Task #[0-9]+$") })).ToBeVisibleAsync();
            await Expect(page.Locator(".facts a.schedule-link")).ToHaveTextAsync(name);
            await page.Locator(".facts a.schedule-link").ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex($"#/schedules/{name}$"));
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Schedule {name}" })).ToBeVisibleAsync();

            await page.GetByRole(AriaRole.Button, new() { Name = "Run now" }).ClickAsync();

            var status = page.GetByRole(AriaRole.Status).Filter(new() { HasText = $"Schedule {name} ran now" });
            await Expect(status).ToBeVisibleAsync();
            var id = long.Parse(Regex.Match(await status.InnerTextAsync(), "task #([0-9]+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            var task = await server.WaitForStateAsync(id, "succeeded");
            Assert.Equal(name, task.GetProperty("schedule").GetString());

            // Each tick re-renders the list below, and a click that lands while its row is being replaced goes nowhere
            // (seen on a loaded machine). Paused, the schedule makes no more tasks and the row holds still.
            using (var paused = await server.Client.PostAsync(new Uri($"/schedules/{name}/pause", UriKind.Relative), null))
            {
                Assert.True(paused.IsSuccessStatusCode, $"pausing {name} answered {(int)paused.StatusCode}");
            }

            await page.GotoAsync("/#/tasks?state=all");
            await page.Locator($"tr[data-id='{id}'] a.schedule-link").ClickAsync();

            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Schedule {name}" })).ToBeVisibleAsync();
            Assert.Empty(browser.ConsoleErrors(page));
        }
        finally
        {
            using var deleted = await server.Client.DeleteAsync(new Uri($"/schedules/{name}", UriKind.Relative));
        }
    }

    private async Task PutScheduleAsync(string name, string body)
    {
        using var response = await server.Client.PutAsync(new Uri($"/schedules/{name}", UriKind.Relative), new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"PUT /schedules/{name} answered {(int)response.StatusCode}: {text}");
    }

    private async Task<JsonElement> GetScheduleAsync(string name) =>
        JsonDocument.Parse(await server.Client.GetStringAsync(new Uri($"/schedules/{name}", UriKind.Relative))).RootElement;
}
