using System.Collections.Concurrent;
using Microsoft.Playwright;
using TaskSystem.Dashboard.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace TaskSystem.Dashboard.Tests;

/// <summary>
/// The interactive reference at /docs on a server that wants an API key: the page asks for it, keeps it for the tab
/// (where the dashboard keeps its own), loads the OpenAPI document with it, and shows the endpoints.
/// </summary>
[Collection(DashboardFixtures.Name)]
public sealed class ApiReferenceTests(Browser browser, KeyedServer keyedServer) : IAsyncLifetime
{
    private const string Key = KeyedServer.Key;

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Each test's pages close with it, so that they stop following the live stream.</summary>
    public Task DisposeAsync() => browser.ClosePagesAsync();

    [Fact]
    public async Task Reference_ServerWantsAKey_AsksForIt_ThenLoadsTheDocumentWithIt_AndShowsTheEndpoints()
    {
        var server = await keyedServer.StartedAsync();
        var page = await browser.NewPageAsync(server.Address);
        var prompts = 0;
        page.Dialog += async (_, dialog) =>
        {
            Interlocked.Increment(ref prompts);
            await dialog.AcceptAsync(Key);
        };
        var documentAnswers = new ConcurrentQueue<(string? Authorization, int Status)>();
        page.Response += (_, response) =>
        {
            if (response.Url.EndsWith("/openapi/v1.json", StringComparison.Ordinal))
            {
                documentAnswers.Enqueue((response.Request.Headers.GetValueOrDefault("authorization"), response.Status));
            }
        };

        // Waiting for "load" would wait for the reference's 5 MB script and the fonts it asks an offline machine for;
        // what counts is the condition below, with its own deadline.
        await page.GotoAsync("/docs/", new() { WaitUntil = WaitUntilState.Commit });

        // The first group (the dashboard's data) is open: its operations' summaries come from the document.
        await Expect(page.GetByText("Tasks per state and queue, throughput, nodes").First).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Expect(page.GetByText("External workers").First).ToBeVisibleAsync();
        Assert.Equal(1, prompts);
        Assert.Contains(documentAnswers, r => r.Status == 200 && r.Authorization == $"Bearer {Key}");
        Assert.Equal(Key, await page.EvaluateAsync<string>("() => sessionStorage.getItem('tasksystem.apiKey')"));
    }
}
