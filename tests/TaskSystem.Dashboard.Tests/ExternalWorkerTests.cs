using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using TaskSystem.Dashboard.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace TaskSystem.Dashboard.Tests;

/// <summary>Tasks run by external workers, from the dashboard: enqueue one of their types, and stop one a worker holds.</summary>
[Collection(DashboardFixtures.Name)]
public sealed partial class ExternalWorkerTests(Browser browser, DashboardServer server) : IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Each test's pages close with it, so that they stop following the live stream.</summary>
    public Task DisposeAsync() => browser.ClosePagesAsync();

    [Fact]
    public async Task EnqueueForm_OffersTheDeclaredExternalTypes_AndAnyNameWhenAnyTypeIsDeclared()
    {
        var page = await browser.NewPageAsync(server.Address);
        await page.GotoAsync("/#/new");
        var type = page.GetByLabel("Type", new() { Exact = true });
        await Expect(type).ToHaveValueAsync("demo");
        await Expect(type.Locator("optgroup[label='Run by external workers'] option")).ToHaveTextAsync(["resize"]);

        await type.SelectOptionAsync("resize");
        await page.GetByRole(AriaRole.Button, new() { Name = "Enqueue" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(TaskUrl());
        await Expect(page.Locator(".title-badge")).ToHaveTextAsync("queued");
        await Expect(page.Locator(".facts")).ToContainTextAsync("resize");

        await page.GotoAsync("/#/new");
        await type.SelectOptionAsync(new SelectOptionValue { Label = "Another type (external workers)…" });
        var name = page.GetByLabel("Type name (run by external workers)");
        await Expect(name).ToBeFocusedAsync();
        await name.FillAsync("no spaces allowed");
        await page.GetByRole(AriaRole.Button, new() { Name = "Enqueue" }).ClickAsync();
        await Expect(page.Locator("#enqueue-type-error")).ToContainTextAsync("may contain only");
        await name.FillAsync("thumbnail");
        await page.GetByRole(AriaRole.Button, new() { Name = "Enqueue" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(TaskUrl());
        await Expect(page.Locator(".facts")).ToContainTextAsync("thumbnail");
    }

    [Fact]
    public async Task Stop_FromTheDashboard_ReachesTheHeartbeatOfTheWorkerHoldingTheTask()
    {
        var id = await server.EnqueueAsync("""{"type": "resize", "queue": "dashboard-stop"}""");
        var claimed = (await PostAsync("/workers/claim", """{"worker": "gallery", "types": ["resize"], "queues": ["dashboard-stop"]}""")).GetProperty("tasks")[0];
        var token = claimed.GetProperty("leaseToken").GetString();
        var page = await browser.NewPageAsync(server.Address);
        await page.GotoAsync($"/#/tasks/{id}");
        await Expect(page.Locator(".title-badge")).ToHaveTextAsync("running");
        await Expect(page.Locator(".facts")).ToContainTextAsync("worker:gallery");
        var heartbeat = PostAsync($"/tasks/{id}/heartbeat", $$"""{"leaseToken": "{{token}}", "waitSeconds": 10}""");

        await page.GetByRole(AriaRole.Button, new() { Name = "Stop" }).ClickAsync();

        Assert.True((await heartbeat.WaitAsync(TimeSpan.FromSeconds(5))).GetProperty("stopRequested").GetBoolean());
        Assert.Equal("cancelled", (await PostAsync($"/tasks/{id}/fail", $$"""{"leaseToken": "{{token}}", "error": "stopped"}""")).GetProperty("state").GetString());
        await Expect(page.Locator(".title-badge")).ToHaveTextAsync("cancelled");
    }

    private async Task<JsonElement> PostAsync(string path, string body)
    {
        using var response = await server.Client.PostAsync(new Uri(path, UriKind.Relative), new StringContent(body));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [GeneratedRegex(@"#/tasks/(\d+)$")]
    private static partial Regex TaskUrl();
}
