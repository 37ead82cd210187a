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

    /// <summary>The machine's package cache, where everything but TaskSystem's own packages is found without a download.</summary>
    public static string MachineCache => Environment.GetEnvironmentVariable("NUGET_PACKAGES")
        ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    public (int ExitCode, string Output) Pack { get; private set; }

    public async Task InitializeAsync()
    {
        var configuration = typeof(PackedFeed).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        Pack = await ProcessRunner.RunAsync("dotnet", ["pack", Path.Combine(RepositoryDocs.Root, "TaskSystem.slnx"), "-c", configuration, "--no-build", "-o", Feed], CommandTimeout);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Work, recursive: true);
        return Task.CompletedTask;
    }
}
