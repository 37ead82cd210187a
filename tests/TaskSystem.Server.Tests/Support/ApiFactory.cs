using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

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

    /// <summary>More changes to the host (test services, logging), applied after the settings.</summary>
    public Action<IWebHostBuilder>? Configure { get; set; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("TaskSystem:ConnectionString", _directory.SqliteConnectionString);
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }

        Configure?.Invoke(builder);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _directory.Dispose();
    }
}
