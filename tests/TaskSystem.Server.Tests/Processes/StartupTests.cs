using System.Net;
using System.Net.Http.Headers;
using TaskSystem.Server.Tests.Support;

namespace TaskSystem.Server.Tests.Processes;

/// <summary>A server with bad settings, or exposed without a key, refuses to start, saying which setting and why.</summary>
public sealed class StartupTests
{
    [Theory]
    [InlineData("--TaskSystem:Concurrency", "-1", "TaskSystem:Concurrency must be between 0 and 1024 (got -1)")]
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

    [Fact]
    public async Task NonLoopbackAddress_WithoutAKey_ExitsNonZero_SayingHowToSetOne()
    {
        using var directory = new TempDirectory();
        await using var server = ServerProcess.LaunchOn("0.0.0.0", "--TaskSystem:ConnectionString", directory.SqliteConnectionString);

        var exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.NotEqual(0, exitCode);
        foreach (var hint in new[] { "TaskSystem:ApiKeys", "docker run -e TaskSystem__ApiKeys__0=", "fly secrets set TaskSystem__ApiKeys__0=", "TaskSystem:AllowAnonymous=true" })
        {
            Assert.Contains(hint, server.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task NonLoopbackAddress_WithAllowAnonymous_StartsOpen()
    {
        using var directory = new TempDirectory();
        await using var server = await ServerProcess.StartOnAsync("0.0.0.0", "--TaskSystem:ConnectionString", directory.SqliteConnectionString, "--TaskSystem:AllowAnonymous", "true");

        using var response = await server.Client.GetAsync(new Uri("/tasks", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task NonLoopbackAddress_WithAKey_StartsAndRequiresIt()
    {
        const string Key = "a-key-for-this-server-0123";
        using var directory = new TempDirectory();
        await using var server = await ServerProcess.StartOnAsync("0.0.0.0", "--TaskSystem:ConnectionString", directory.SqliteConnectionString, "--TaskSystem:ApiKeys:0", Key);

        using var anonymous = await server.Client.GetAsync(new Uri("/tasks", UriKind.Relative));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/tasks") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", Key) } };
        using var authorized = await server.Client.SendAsync(request);
        using var ready = await server.Client.GetAsync(new Uri("/health/ready", UriKind.Relative));

        Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.OK, HttpStatusCode.OK), (anonymous.StatusCode, authorized.StatusCode, ready.StatusCode));
        Assert.DoesNotContain(Key, server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WeakKey_ExitsNonZero_WithoutPrintingIt()
    {
        using var directory = new TempDirectory();
        await using var server = ServerProcess.Launch("--TaskSystem:ConnectionString", directory.SqliteConnectionString, "--TaskSystem:ApiKeys:0", "hunter2");

        var exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.NotEqual(0, exitCode);
        Assert.Contains("TaskSystem:ApiKeys:0 must be at least 16", server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", server.Output, StringComparison.Ordinal);
    }
}
