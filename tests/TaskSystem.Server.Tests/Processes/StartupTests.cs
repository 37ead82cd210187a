using TaskSystem.Server.Tests.Support;
using TaskSystem.Tests.Support;

namespace TaskSystem.Server.Tests.Processes;

/// <summary>A server with bad settings refuses to start, saying which setting and why.</summary>
public sealed class StartupTests
{
    [Theory]
    [InlineData("--TaskSystem:Concurrency", "0", "TaskSystem:Concurrency must be between 1 and 1024 (got 0)")]
    [InlineData("--TaskSystem:Concurrency", "many", "TaskSystem:Concurrency")]
    [InlineData("--TaskSystem:Provider", "oracle", "TaskSystem:Provider must be one of")]
    [InlineData("--TaskSystem:StopGracePeriod", "-00:00:01", "TaskSystem:StopGracePeriod must be more than zero")]
    public async Task InvalidSetting_ExitsNonZero_WithAMessageNamingIt(string key, string value, string message)
    {
        using var directory = new TempDirectory();
        await using var server = ServerProcess.Launch("--TaskSystem:ConnectionString", directory.SqliteConnectionString, key, value);

        var exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.NotEqual(0, exitCode);
        Assert.Contains(message, server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecondServerOnTheSameDatabase_ExitsNonZero_SayingWhy()
    {
        using var directory = new TempDirectory();
        await using var first = await ServerProcess.StartAsync("--TaskSystem:ConnectionString", directory.SqliteConnectionString);
        await using var second = ServerProcess.Launch("--TaskSystem:ConnectionString", directory.SqliteConnectionString);

        var exitCode = await second.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.NotEqual(0, exitCode);
        Assert.Contains("in use by another TaskSystem process", second.Output, StringComparison.Ordinal);
    }
}
