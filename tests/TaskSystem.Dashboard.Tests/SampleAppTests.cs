using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Playwright;
using TaskSystem.Dashboard.Tests.Support;
using TaskSystem.Samples.AspNetCore;
using TaskSystem.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace TaskSystem.Dashboard.Tests;

/// <summary>
/// The dashboard inside an app of one's own (samples/TaskSystem.Samples.AspNetCore, on a loopback port): the app's
/// sign-in comes first, then the dashboard works as in the server, and a failed attempt unfolds its stack trace.
/// </summary>
[Collection(DashboardFixtures.Name)]
public sealed partial class SampleAppTests(Browser browser) : IAsyncLifetime
{
    private const string Password = "correct horse battery staple";
    private readonly TempDirectory _directory = new();
    private WebApplication _app = null!;

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
    }

    public async Task DisposeAsync()
    {
        // The test's pages first, so that they stop following the live stream, and the app has no stream open as it stops.
        await browser.ClosePagesAsync();
        await _app.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task SignIn_ThenEnqueueAFailingReport_TheAttemptRowsShowTheStackTrace()
    {
        var page = await browser.NewPageAsync(new Uri(_app.Urls.First()));
        await page.GotoAsync("/jobs/");
        await Expect(page).ToHaveURLAsync(new Regex("/login"));
        await page.GetByLabel("Name").FillAsync("ops");
        await page.GetByLabel("Password").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.Locator("#connection")).ToHaveTextAsync("Live");

        await page.GotoAsync("/jobs/#/new");
        await Expect(page.GetByLabel("Type", new() { Exact = true })).ToHaveValueAsync("generate-report");
        await page.GetByLabel("Payload (JSON object)").FillAsync("""{"customer": "acme", "year": 2026, "month": 13}""");
        await page.GetByRole(AriaRole.Button, new() { Name = "Enqueue" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(TaskUrl());
        await Expect(page.Locator(".title-badge")).ToHaveTextAsync("failed");
        var stack = page.Locator(".attempts details.stack-trace").First;
        await stack.Locator("summary").ClickAsync();
        await Expect(stack.Locator("pre")).ToContainTextAsync("GenerateReportHandler.HandleAsync");
        await Expect(page.Locator(".attempts")).ToContainTextAsync("ArgumentOutOfRangeException");
    }

    [GeneratedRegex(@"#/tasks/(\d+)$")]
    private static partial Regex TaskUrl();
}
