using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using TaskSystem.Tests.Support;

namespace TaskSystem.Server.Tests.Support;

/// <summary>The real server pipeline in memory, on a SQLite file of its own.</summary>
public sealed class ApiFactory : WebApplicationFactory<Program>
{
    private readonly TempDirectory _directory = new();

    /// <summary>The SQLite database this server uses (for tests that prepare data in it directly).</summary>
    public string ConnectionString => _directory.SqliteConnectionString;

    /// <summary>Extra settings, as --TaskSystem:X value would give.</summary>
    public Dictionary<string, string?> Settings { get; } = new()
    {
        ["TaskSystem:Concurrency"] = "8",
        ["TaskSystem:RetryBaseDelay"] = "00:00:00.050",
        ["TaskSystem:RetryMaxDelay"] = "00:00:00.200",
        ["TaskSystem:StopGracePeriod"] = "00:00:02",
        ["TaskSystem:NodeName"] = "api-test",
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("TaskSystem:ConnectionString", _directory.SqliteConnectionString);
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _directory.Dispose();
    }
}
