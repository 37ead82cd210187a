using System.Text.RegularExpressions;
using TaskSystem.TestSupport;

namespace TaskSystem.Packages.Tests;

/// <summary>
/// The README's quick start followed as a new user follows it: a new web app, the packages' folder made a package
/// source with its command, <c>dotnet add package TaskSystem</c>, its Program.cs pasted whole, run, and its curl
/// commands answered as their comments say. Only two things differ from a user's shell: the packages were packed
/// once for the class (the same command, without building again), and the home folder ("~", where NuGet keeps the
/// user's sources) is the test's own, with the machine's package cache as a read-only fallback.
/// </summary>
public sealed partial class PackagesTests
{
    private const string QuickStart = "## Quick start: the library in your app";

    [Fact]
    public async Task ReadmeQuickStart_AsWritten_InANewWebApp_RunsTheTaskUnderTheContentRoot()
    {
        Assert.True(packed.Pack.ExitCode == 0, packed.Pack.Output);
        var readme = RepositoryDocs.Read("README.md");
        var section = readme[readme.IndexOf(QuickStart, StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", QuickStart.Length, StringComparison.Ordinal)];
        var bash = RepositoryDocs.CodeBlocks(section, "bash");
        var program = Assert.Single(RepositoryDocs.CodeBlocks(section, "csharp"));
        var newApp = NewAppCommand().Match(section).Groups["command"].Value;
        var addPackage = Assert.Single(Lines(bash[0]));
        var (pack, addSource) = (Lines(bash[1])[0], Lines(bash[1])[1]);
        var run = RunCommand().Match(section).Groups["command"].Value;
        var (post, get) = (Lines(bash[2])[0], Lines(bash[2])[1]);
        Assert.StartsWith("dotnet new web -o MyApp", newApp, StringComparison.Ordinal);
        Assert.Equal("dotnet add package TaskSystem", addPackage);
        Assert.StartsWith("dotnet pack TaskSystem.slnx -c Release -o ~/tasksystem-packages", pack, StringComparison.Ordinal);

        var home = Path.Combine(_work, "home");
        CopyFolder(packed.Feed, Path.Combine(home, "tasksystem-packages"));
        var environment = new Dictionary<string, string?>
        {
            ["HOME"] = home,
            ["DOTNET_CLI_HOME"] = home,
            ["NUGET_PACKAGES"] = Path.Combine(home, ".nuget", "packages"),
            ["NUGET_FALLBACK_PACKAGES"] = packed.MachineCache,
        };
        var app = Path.Combine(home, "MyApp");
        await ShellAsync(newApp, home, environment);
        await ShellAsync(addSource, app, environment);
        await ShellAsync(addPackage, app, environment);
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), program);

        // The README's port, 5000, is a free one here: other tests and apps may run beside this one.
        var address = $"http://localhost:{LoopbackPort.Free()}";
        var runEnvironment = environment.Where(e => e.Value is not null).ToDictionary(e => e.Key, e => e.Value!);
        await using var server = ChildProcess.Start("bash", ["-c", $"exec {run.Replace("http://localhost:5000", address, StringComparison.Ordinal)}"], runEnvironment, app);
        await server.WaitListeningAsync(new Uri(address).Port, TimeSpan.FromMinutes(5));
        var posted = await ShellAsync(post.Replace("http://localhost:5000", address, StringComparison.Ordinal), app, environment);
        var done = await Eventually.Until(
            () => ShellAsync(get.Replace("http://localhost:5000", address, StringComparison.Ordinal), app, environment),
            answer => answer.Contains("\"state\":\"succeeded\"", StringComparison.Ordinal),
            because: "the quick start's task should succeed");

        Assert.Contains("\"id\":1,", posted, StringComparison.Ordinal);
        Assert.Contains("\"state\":\"queued\"", posted, StringComparison.Ordinal);
        Assert.Contains("\"payload\":{\"to\":\"jean@example.com\"}", done, StringComparison.Ordinal);
        Assert.Contains("Welcome, jean@example.com! (attempt 1)", server.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(app, "data", "tasks.db")), "The database is not in data/tasks.db under the content root.");
        Assert.True(Directory.Exists(Path.Combine(home, ".nuget", "packages", "tasksystem", packed.Version)), "TaskSystem was not restored from the local folder");
    }

    private static string[] Lines(string block) =>
        [.. block.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(" #")[0].Trim())];

    private static async Task<string> ShellAsync(string command, string directory, IReadOnlyDictionary<string, string?> environment)
    {
        Directory.CreateDirectory(directory);
        var (exitCode, output) = await ProcessRunner.RunAsync("bash", ["-c", command], CommandTimeout, directory, environment);
        Assert.True(exitCode == 0, $"{command}\n{output}");
        return output;
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }

    [GeneratedRegex(@"a new one: `(?<command>dotnet new [^`]+)`")]
    private static partial Regex NewAppCommand();

    [GeneratedRegex(@"Run it with `(?<command>dotnet run [^`]+)`")]
    private static partial Regex RunCommand();
}
