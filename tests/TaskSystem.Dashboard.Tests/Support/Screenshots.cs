using Microsoft.Playwright;

namespace TaskSystem.Dashboard.Tests.Support;

/// <summary>
/// Screenshots of the main pages, kept as test artifacts in artifacts/dashboard-screenshots at the repository's
/// root (or where TASKSYSTEM_SCREENSHOTS points). The docs' images are copied from there.
/// </summary>
public static class Screenshots
{
    public static string Directory { get; } = Locate();

    public static async Task SaveAsync(IPage page, string name, bool fullPage = true)
    {
        // Nothing may blink in a screenshot: let fresh-row highlights finish.
        await page.EvaluateAsync("() => document.getAnimations().forEach(a => a.finish())");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Directory, name + ".png"), FullPage = fullPage });
    }

    private static string Locate()
    {
        var directory = Environment.GetEnvironmentVariable("TASKSYSTEM_SCREENSHOTS");
        if (string.IsNullOrEmpty(directory))
        {
            var root = new DirectoryInfo(AppContext.BaseDirectory);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "TaskSystem.slnx")))
            {
                root = root.Parent;
            }

            directory = root is null
                ? Path.Combine(AppContext.BaseDirectory, "screenshots")
                : Path.Combine(root.FullName, "artifacts", "dashboard-screenshots");
        }

        System.IO.Directory.CreateDirectory(directory);
        return directory;
    }
}
