using Microsoft.Playwright;

namespace TaskSystem.Dashboard.Tests.Support;

/// <summary>
/// One headless Chromium for the test run: the system's own (Debian's chromium-headless-shell package, Chromium's
/// headless mode without the browser around it), driven by Playwright through its executable path, so nothing is
/// downloaded. Any Chromium or Chrome works too (<see cref="PathVariable"/>). Each test gets a fresh context (no cookies, no storage),
/// closed when the test ends (<see cref="ClosePagesAsync"/>).
/// </summary>
public sealed class Browser : IAsyncLifetime
{
    /// <summary>Where Chromium is, unless <see cref="PathVariable"/> says otherwise.</summary>
    public const string DefaultPath = "/usr/bin/chromium-headless-shell";

    public const string PathVariable = "TASKSYSTEM_CHROMIUM";

    /// <summary>
    /// Chromium features the tests do without, each a process per test for nothing (when the tests run on the full
    /// browser; the headless shell has none of them). Headless Chromium is the whole browser minus its window: every new context opens a browser window, and each window loads its address bar's
    /// popups (plain and AI mode) as WebUI pages in a renderer process of their own, about a CPU-second each, for an
    /// address bar nobody sees. And after each navigation Chromium starts a spare renderer for the context's next
    /// site, which a test's context, closed at the test's end, never uses.
    /// </summary>
    private static readonly string[] DisabledFeatures =
    [
        "WebUIOmniboxPopup",
        "WebUIOmniboxAimPopup",
        "WebUIOmniboxFullPopup",
        "SpareRendererForSitePerProcess",
    ];

    /// <summary>
    /// The features Playwright (1.64) disables itself (its chromiumSwitches). Chromium honours only the last
    /// --disable-features switch, which is ours (Playwright puts the caller's arguments after its own), so ours repeats
    /// them; when Playwright is upgraded, compare with the command line of the Chromium it starts.
    /// </summary>
    private static readonly string[] PlaywrightDisabledFeatures =
    [
        "AvoidUnnecessaryBeforeUnloadCheckSync",
        "DestroyProfileOnBrowserClose",
        "DialMediaRouteProvider",
        "GlobalMediaControls",
        "HttpsUpgrades",
        "LensOverlay",
        "MediaRouter",
        "PaintHolding",
        "ThirdPartyStoragePartitioning",
        "BlockOriginHeaderModificationOnRedirect",
        "AvoidCorsURLLoaderRestartOnRedirect",
        "Translate",
        "AutoDeElevate",
        "OptimizationHints",
        "NetworkTimeServiceQuerying",
        "AimEnabled",
        "msForceBrowserSignIn",
        "msEdgeUpdateLaunchServicesPreferredVersion",
    ];

    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<IPage, System.Collections.Concurrent.ConcurrentQueue<string>> _errors = [];
    private readonly List<IBrowserContext> _contexts = [];

    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } path ? path : DefaultPath;

    public async Task InitializeAsync()
    {
        // Missing Chromium fails the tests (never skips them): a dashboard that was not tested must not look green.
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException(
                $"Chromium was not found at {ExecutablePath}: the dashboard's browser tests need it. " +
                $"Install it (on Debian: apt-get install -y chromium-headless-shell; ./test.sh does that when run as root) " +
                $"or set {PathVariable} to a Chromium or Chrome executable.");
        }

        // The child servers log only warnings; Playwright's own driver needs no browser download.
        Assertions.SetDefaultExpectTimeout(15_000);
        _playwright = await Playwright.CreateAsync();

        // LaunchAsync starts Chromium with a fresh temporary profile (user-data dir) and deletes it on close.
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args =
            [
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-features=" + string.Join(',', [.. PlaywrightDisabledFeatures, .. DisabledFeatures]),
            ],
        });
    }

    /// <summary>A new page in a new context: wide screen, light theme unless asked otherwise.</summary>
    public async Task<IPage> NewPageAsync(Uri server, ViewportSize? viewport = null, ColorScheme colorScheme = ColorScheme.Light)
    {
        var context = await _browser!.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = server.ToString(),
            ViewportSize = viewport ?? Viewports.Wide,
            ColorScheme = colorScheme,
            Locale = "en-GB",
            TimezoneId = "UTC",
        });
        lock (_contexts)
        {
            _contexts.Add(context);
        }

        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        var errors = _errors.GetOrCreateValue(page);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Enqueue(message.Text);
            }
        };
        page.PageError += (_, error) => errors.Enqueue($"uncaught: {error}");
        return page;
    }

    /// <summary>What a page wrote to its console as errors (failed requests included), for a test to assert on.</summary>
    public IReadOnlyCollection<string> ConsoleErrors(IPage page) => [.. _errors.GetOrCreateValue(page)];

    /// <summary>
    /// Closes every page opened since the last call: the test classes call it when each test ends. A page left open
    /// keeps its live stream and its clocks going, so every later event would be rendered again in every earlier
    /// test's pages, and the browser's CPU would grow with each test.
    /// </summary>
    public async Task ClosePagesAsync()
    {
        IBrowserContext[] contexts;
        lock (_contexts)
        {
            contexts = [.. _contexts];
            _contexts.Clear();
        }

        foreach (var context in contexts)
        {
            await context.CloseAsync();
        }
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}

public static class Viewports
{
    public static readonly ViewportSize Wide = new() { Width = 1366, Height = 900 };
    public static readonly ViewportSize Phone = new() { Width = 390, Height = 844 };
}
