using System.Reflection;
using System.Xml.Linq;
using TaskSystem.TestSupport;

namespace TaskSystem.Packages.Tests;

/// <summary>
/// The packages packed once from this build (without building again) into <see cref="Feed"/>, a folder of a fresh
/// work folder, for every test of the class: packing takes most of a minute.
/// </summary>
public sealed class PackedFeed : IAsyncLifetime
{
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(8);

    /// <summary>The tests' own folder; deleted at the end.</summary>
    public string Work { get; } = Directory.CreateTempSubdirectory("tasksystem-packages-").FullName;

    /// <summary>The packages, named as docs/cli.md names the folder, so that its install command runs in <see cref="Work"/> as written.</summary>
    public string Feed => Path.Combine(Work, "packages");

    /// <summary>The one version of every package, from Directory.Build.props.</summary>
    public string Version { get; } = XDocument.Load(Path.Combine(RepositoryDocs.Root, "Directory.Build.props")).Descendants("VersionPrefix").Single().Value;

    /// <summary>
    /// The machine's package cache without TaskSystem's own packages: a folder of links to every other package in it,
    /// for restores to use as a read-only fallback (no download of what the repository's build already restored).
    /// A TaskSystem package that a user's restore put in the cache (the README's quick start does) would otherwise be
    /// taken from there, at the same version, instead of the one just packed.
    /// </summary>
    public string MachineCache { get; private set; } = "";

    public (int ExitCode, string Output) Pack { get; private set; }

    public async Task InitializeAsync()
    {
        var configuration = typeof(PackedFeed).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        MachineCache = CacheWithoutTaskSystem();
        Pack = await ProcessRunner.RunAsync("dotnet", ["pack", Path.Combine(RepositoryDocs.Root, "TaskSystem.slnx"), "-c", configuration, "--no-build", "-o", Feed], CommandTimeout);
    }

    private string CacheWithoutTaskSystem()
    {
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var view = Directory.CreateDirectory(Path.Combine(Work, "machine-cache")).FullName;
        foreach (var package in Directory.Exists(cache) ? Directory.EnumerateDirectories(cache) : [])
        {
            var id = Path.GetFileName(package);
            if (!id.Equals("tasksystem", StringComparison.OrdinalIgnoreCase) && !id.StartsWith("tasksystem.", StringComparison.OrdinalIgnoreCase))
            {
                Directory.CreateSymbolicLink(Path.Combine(view, id), package);
            }
        }

        return view;
    }

    public Task DisposeAsync()
    {
        // The links first, one by one, so that nothing of the machine's cache behind them can be touched.
        foreach (var link in Directory.EnumerateDirectories(Path.Combine(Work, "machine-cache")))
        {
            Directory.Delete(link);
        }

        Directory.Delete(Work, recursive: true);
        return Task.CompletedTask;
    }
}
