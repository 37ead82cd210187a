using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using TaskSystem.Dashboard.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace TaskSystem.Dashboard.Tests;

/// <summary>The live stream outlives the server: the page reconnects to its successor by itself.</summary>
[Collection(DashboardFixtures.Name)]
public sealed class ReconnectTests(Browser browser) : IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Each test's pages close with it, so that they stop following the live stream.</summary>
    public Task DisposeAsync() => browser.ClosePagesAsync();

    [Fact]
    public async Task Stream_ServerStopsAndStartsAgain_PageReconnectsAndShowsNewTasks()
    {
        using var directory = new TempDirectory();
        var address = ServerProcess.FreeAddress();
        string[] settings = ["--TaskSystem:ConnectionString", directory.SqliteConnectionString, "--TaskSystem:NodeName", "restart-test"];
        var first = await ServerProcess.StartAsync(address, settings);
        var page = await browser.NewPageAsync(address);
        ServerProcess? second = null;
        try
        {
            await page.GotoAsync("/#/tasks?state=all");
            var connection = page.Locator("#connection");
            await Expect(connection).ToHaveTextAsync("Live");
            await page.EvaluateAsync("() => { window.notReloaded = true; }");

            // A graceful stop ends the open stream at once (it must not hold the shutdown up).
            var started = System.Diagnostics.Stopwatch.StartNew();
            Assert.Equal(0, await first.TerminateAsync(TimeSpan.FromSeconds(20)));
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(8), $"shutdown took {started.Elapsed} with a dashboard open");
            await Expect(connection).ToHaveTextAsync("Reconnecting…");

            second = await ServerProcess.StartAsync(address, settings);
            await Expect(connection).ToHaveTextAsync("Live", new() { Timeout = 30_000 });
            using var response = await second.Client.PostAsync(new Uri("/tasks", UriKind.Relative), new StringContent("""{"type": "demo", "payload": {"durationMs": 100}}"""));
            var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

            await Expect(page.Locator($"tr[data-id='{id}']")).ToBeVisibleAsync();
            Assert.True(await page.EvaluateAsync<bool>("() => window.notReloaded === true"), "the page reloaded");
        }
        finally
        {
            await first.DisposeAsync();
            if (second is not null)
            {
                await second.DisposeAsync();
            }
        }
    }
}
