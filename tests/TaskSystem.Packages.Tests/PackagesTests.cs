using System.IO.Compression;
using System.Xml.Linq;
using TaskSystem.TestSupport;

namespace TaskSystem.Packages.Tests;

/// <summary>
/// The packages as a user gets them: packed from this build into a fresh folder, checked for what a package page and
/// a debugger need, and consumed by an app that knows only that folder (samples/TaskSystem.Samples.Packages).
/// Restores reuse the machine's package cache for everything but TaskSystem's own packages, which go to a folder of
/// their own, so a rebuilt package is never shadowed by a cached one of the same version.
/// </summary>
public sealed partial class PackagesTests(PackedFeed packed) : IClassFixture<PackedFeed>
{
    private static readonly string[] Packages = ["TaskSystem", "TaskSystem.PostgreSql", "TaskSystem.AspNetCore", "TaskSystem.Testing", "TaskSystem.Client", "TaskSystem.Cli"];

    /// <summary>The dotnet tools among <see cref="Packages"/>, with their command: their files are under tools/, not lib/, and the assembly is named after the command.</summary>
    private static readonly Dictionary<string, string> Tools = new(StringComparer.Ordinal) { ["TaskSystem.Cli"] = "tasksystem" };
    private static readonly TimeSpan CommandTimeout = PackedFeed.CommandTimeout;
    private readonly string _work = packed.Work;

    [Fact]
    public async Task Pack_ThenAnAppConsumesThePackagesFromALocalFolder_AndRuns()
    {
        var root = RepositoryDocs.Root;
        var feed = packed.Feed;
        var pack = packed.Pack;

        Assert.True(pack.ExitCode == 0, pack.Output);
        var version = packed.Version;
        // A packable project missing from this list (and from the project's references, which build it before the
        // pack without a build) would ship untested.
        var packedFiles = Directory.EnumerateFiles(feed, "*.nupkg").Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(Packages.Select(id => $"{id}.{version}.nupkg").Order(StringComparer.Ordinal), packedFiles);
        foreach (var id in Packages)
        {
            Assert.True(File.Exists(Path.Combine(feed, $"{id}.{version}.nupkg")), $"{id}.{version}.nupkg is missing:\n{pack.Output}");
            // Its public surface is pinned (Directory.Build.props turns the analyzer on where these files exist).
            Assert.True(File.Exists(Path.Combine(root, "src", id, "PublicAPI.Shipped.txt")), $"src/{id} has no PublicAPI.Shipped.txt");
            Assert.True(File.Exists(Path.Combine(root, "src", id, "PublicAPI.Unshipped.txt")), $"src/{id} has no PublicAPI.Unshipped.txt");
            var (folder, assembly) = Tools.TryGetValue(id, out var command) ? ("tools/net10.0/any", command) : ("lib/net10.0", id);
            using var symbols = ZipFile.OpenRead(Path.Combine(feed, $"{id}.{version}.snupkg"));
            Assert.Contains(symbols.Entries, e => e.FullName == $"{folder}/{assembly}.pdb");
            using var package = ZipFile.OpenRead(Path.Combine(feed, $"{id}.{version}.nupkg"));
            Assert.Contains(package.Entries, e => e.FullName == $"{folder}/{assembly}.xml");
            Assert.Contains(package.Entries, e => e.FullName == "README.md");
            var nuspec = Nuspec(package);
            Assert.Equal("MIT", Element(nuspec, "license").Value);
            Assert.Equal("README.md", Element(nuspec, "readme").Value);
            Assert.False(string.IsNullOrEmpty(Element(nuspec, "repository").Attribute("url")?.Value), $"{id} has no repository url");
            Assert.False(string.IsNullOrEmpty(Element(nuspec, "repository").Attribute("commit")?.Value), $"{id} has no repository commit (SourceLink)");
        }

        using (var testing = ZipFile.OpenRead(Path.Combine(feed, $"TaskSystem.Testing.{version}.nupkg")))
        {
            // It reaches into TaskSystem's internals, so it must not be paired with any other version.
            var dependency = Nuspec(testing).Descendants().Single(e => e.Name.LocalName == "dependency" && e.Attribute("id")?.Value == "TaskSystem");
            Assert.Equal($"[{version}]", dependency.Attribute("version")?.Value);
        }

        // The tool as docs/cli.md installs it, from the folder alone (it carries its dependencies), its command as
        // written; the "global" tools folder is this test's own.
        var home = Path.Combine(_work, "home");
        var installLine = (await File.ReadAllLinesAsync(Path.Combine(root, "docs", "cli.md"))).Single(line => line.StartsWith("dotnet tool install", StringComparison.Ordinal));
        var install = await ProcessRunner.RunAsync("bash", ["-c", installLine], CommandTimeout, _work, new Dictionary<string, string?> { ["DOTNET_CLI_HOME"] = home });
        Assert.True(install.ExitCode == 0, $"{installLine}\n{install.Output}");
        var help = await RunAsync(Path.Combine(home, ".dotnet", "tools", "tasksystem"), ["--help"]);
        Assert.True(help.ExitCode == 0, help.Output);
        Assert.Contains("tasksystem [command] [options]", help.Output, StringComparison.Ordinal);
        using (var tool = ZipFile.OpenRead(Path.Combine(feed, $"TaskSystem.Cli.{version}.nupkg")))
        {
            Assert.Contains(Nuspec(tool).Descendants(), e => e.Name.LocalName == "packageType" && e.Attribute("name")?.Value == "DotnetTool");
        }

        // The app as the README's quick start makes it: the folder is a package source, then "dotnet add package TaskSystem".
        var app = Path.Combine(_work, "app");
        var project = Path.Combine(app, "TaskSystem.Samples.Packages.csproj");
        var packages = Path.Combine(_work, "restored");
        var cache = packed.MachineCache;
        CopySample(Path.Combine(root, "samples", "TaskSystem.Samples.Packages"), app);
        await File.WriteAllLinesAsync(project, (await File.ReadAllLinesAsync(project)).Where(line => !line.Contains("Include=\"TaskSystem\"", StringComparison.Ordinal)));
        await File.WriteAllTextAsync(Path.Combine(app, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="tasksystem-local" value="{feed}" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="tasksystem-local"><package pattern="TaskSystem" /><package pattern="TaskSystem.*" /></packageSource>
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
              </packageSourceMapping>
              <fallbackPackageFolders>
                <add key="machine-cache" value="{cache}" />
              </fallbackPackageFolders>
            </configuration>
            """);

        var add = await RunAsync("dotnet", ["add", project, "package", "TaskSystem", "--package-directory", packages]);
        var run = await RunAsync("dotnet",
        [
            "run", "--project", app, "-c", "Release", $"-p:TaskSystemVersion={version}", $"-p:RestorePackagesPath={packages}",
            "--", "--db", Path.Combine(_work, "tasks.db"),
        ]);

        Assert.True(add.ExitCode == 0, add.Output);
        Assert.Contains($"Include=\"TaskSystem\" Version=\"{version}\"", await File.ReadAllTextAsync(project), StringComparison.Ordinal);
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("consumer: ok", run.Output, StringComparison.Ordinal);
        Assert.Contains("Hello, Jean!", run.Output, StringComparison.Ordinal);
        Assert.True(Directory.Exists(Path.Combine(packages, "tasksystem", version)), "TaskSystem was not restored from the local folder");
    }

    private static Task<(int ExitCode, string Output)> RunAsync(string program, string[] arguments) =>
        ProcessRunner.RunAsync(program, arguments, CommandTimeout);

    private static XDocument Nuspec(ZipArchive package)
    {
        using var stream = package.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        return XDocument.Load(stream);
    }

    private static XElement Element(XDocument nuspec, string name) =>
        nuspec.Descendants().FirstOrDefault(e => e.Name.LocalName == name) ?? throw new InvalidOperationException($"The nuspec has no <{name}>:\n{nuspec}");

    /// <summary>The sample's sources, without what a previous build left in it.</summary>
    private static void CopySample(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(from, file);
            if (relative.StartsWith("bin", StringComparison.Ordinal) || relative.StartsWith("obj", StringComparison.Ordinal))
            {
                continue;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(to, relative))!);
            File.Copy(file, Path.Combine(to, relative));
        }
    }
}
