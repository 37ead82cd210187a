using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using TaskSystem.Server.Tests.Support;
using TaskSystem.Tests.Support;
using TaskSystem.TestSupport;

namespace TaskSystem.Server.Tests.Processes;

/// <summary>
/// docs/http-targets.md's "Try it", as a new user runs it: the documented receiver, the real server with the documented
/// settings, the documented curl commands. Only the ports change (the test's free ones for 4000 and 8080).
/// </summary>
public sealed class HttpTargetWalkthroughTests
{
    private static readonly string Page = RepositoryDocs.Read("docs/http-targets.md");

    [Fact]
    public async Task TryIt_AsDocumented_RetriesOnTheReceiversRetryAfter_ThenSucceeds()
    {
        var bash = RepositoryDocs.CodeBlocks(Page, "bash").SelectMany(b => b.Split('\n')).ToList();
        var receiverLine = Assert.Single(bash, l => l.EndsWith("python3 receiver.py", StringComparison.Ordinal));
        var serverLine = Assert.Single(bash, l => l.StartsWith("dotnet run --project src/TaskSystem.Server -- ", StringComparison.Ordinal));
        var enqueueLine = Assert.Single(bash, l => l.StartsWith("curl -X POST http://localhost:4000/tasks ", StringComparison.Ordinal));
        var showLine = Assert.Single(Page.Split('\n'), l => l.Contains("`curl http://localhost:4000/tasks/1`", StringComparison.Ordinal));
        var receiverPort = LoopbackPort.Free();
        string Ports(string text) => text.Replace("127.0.0.1:8080", $"127.0.0.1:{receiverPort}", StringComparison.Ordinal);

        using var directory = new TempDirectory();
        var script = directory.File("receiver.py");
        await File.WriteAllTextAsync(script, Assert.Single(RepositoryDocs.CodeBlocks(Page, "python")));
        var environment = receiverLine.Split(' ').TakeWhile(word => word.Contains('=', StringComparison.Ordinal))
            .Select(word => word.Split('=', 2)).ToDictionary(pair => pair[0], pair => pair[1]);
        environment["PORT"] = receiverPort.ToString(CultureInfo.InvariantCulture);
        await using var receiver = ChildProcess.Start("python3", [script], environment);
        await receiver.WaitListeningAsync(receiverPort);

        var settings = Ports(serverLine["dotnet run --project src/TaskSystem.Server -- ".Length..]).Split(' ');
        await using var server = await ServerProcess.StartAsync(["--TaskSystem:ConnectionString", directory.SqliteConnectionString, .. settings]);
        string Server(string command) => Ports(command).Replace("http://localhost:4000", server.Address.AbsoluteUri.TrimEnd('/'), StringComparison.Ordinal);

        var created = await ShAsync(Server(enqueueLine));
        Assert.Equal(1, JsonDocument.Parse(created).RootElement.GetProperty("id").GetInt64());
        var show = Server(showLine[(showLine.IndexOf("`curl ", StringComparison.Ordinal) + 1)..showLine.IndexOf("/tasks/1`", StringComparison.Ordinal)] + "/tasks/1");
        var task = await Eventually.Until(
            async () => JsonDocument.Parse(await ShAsync(show)).RootElement,
            t => t.GetProperty("state").GetString() is "succeeded" or "failed",
            TimeSpan.FromSeconds(30),
            "the task to finish");

        Assert.Equal(("succeeded", 2), (task.GetProperty("state").GetString(), task.GetProperty("attempt").GetInt32()));
        var error = Assert.Single(task.GetProperty("errors").EnumerateArray());
        Assert.Contains("""answered 503 Service Unavailable: {"error": "busy"}""", error.GetProperty("error").GetString(), StringComparison.Ordinal);
        var waited = task.GetProperty("startedAt").GetDateTimeOffset() - error.GetProperty("at").GetDateTimeOffset();
        Assert.True(waited >= TimeSpan.FromSeconds(1.9), $"the second attempt started {waited} after the first failed, not after Retry-After: 2");
        Assert.Equal("1", task.GetProperty("result").GetProperty("body").GetProperty("task").GetString());
    }

    [Fact]
    public void TryIt_AppsettingsSnippet_SaysWhatTheCommandLineSays()
    {
        var json = Assert.Single(RepositoryDocs.CodeBlocks(Page, "json"), b => b.Contains("\"AllowedTargets\"", StringComparison.Ordinal));
        var serverLine = Assert.Single(RepositoryDocs.CodeBlocks(Page, "bash").SelectMany(b => b.Split('\n')), l => l.StartsWith("dotnet run --project src/TaskSystem.Server -- ", StringComparison.Ordinal));

        var fromFile = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))).Build();
        var fromArgs = new ConfigurationBuilder().AddCommandLine(serverLine["dotnet run --project src/TaskSystem.Server -- ".Length..].Split(' ')).Build();

        // JSON's true reads as "True", the command line's as "true": the binder takes either.
        static IEnumerable<string> Settings(IConfiguration configuration) => configuration.AsEnumerable()
            .Where(p => p.Value is not null).Select(p => $"{p.Key}={p.Value!.ToLowerInvariant()}").Order(StringComparer.Ordinal);
        Assert.Equal(4, Settings(fromArgs).Count());
        Assert.Equal(Settings(fromArgs), Settings(fromFile));
    }

    [Fact]
    public async Task Readme_HttpTargetsBlock_StartsTheServerAllowingTheTarget_AndItsCurlEnqueuesTheTask()
    {
        var readme = RepositoryDocs.Read("README.md");
        var start = readme.IndexOf("\n## HTTP targets", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no '## HTTP targets' section");
        var section = readme[start..readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal)];
        var lines = Assert.Single(RepositoryDocs.CodeBlocks(section, "bash")).TrimEnd('\n').Split('\n');
        const string Run = "dotnet run --project src/TaskSystem.Server -- ";
        Assert.StartsWith(Run, lines[0], StringComparison.Ordinal);

        using var directory = new TempDirectory();
        await using var server = await ServerProcess.StartAsync(["--TaskSystem:ConnectionString", directory.SqliteConnectionString, .. lines[0][Run.Length..].Split(' ')]);
        var enqueue = string.Join('\n', lines.Skip(1)).Replace("http://localhost:4000", server.Address.AbsoluteUri.TrimEnd('/'), StringComparison.Ordinal);
        var created = JsonDocument.Parse(await ShAsync(enqueue + " -sS --fail-with-body")).RootElement;

        // The target is not reachable from a test machine: the task is stored and tried; its answer does not matter here.
        Assert.Equal("http", created.GetProperty("type").GetString());
        Assert.Equal("https://api.example.com/hooks/welcome", created.GetProperty("payload").GetProperty("url").GetString());
        var stored = JsonDocument.Parse(await ShAsync($"curl -sS --fail-with-body {server.Address.AbsoluteUri}tasks/{created.GetProperty("id").GetInt64()}")).RootElement;
        Assert.Equal(42, stored.GetProperty("payload").GetProperty("body").GetProperty("user").GetInt32());
    }

    [Theory]
    [InlineData("--TaskSystem:Http:AllowedTargets:0=ftp://files.example/", "TaskSystem:Http:AllowedTargets:0 must be an absolute http or https URL (got 'ftp://files.example/')")]
    [InlineData("--TaskSystem:Http:SigningKeys:0:Id=k1", "TaskSystem:Http:SigningKeys:0:Secret must be at least 32 characters")]
    [InlineData("--TaskSystem:Http:MaxConnectionsPerHost=0", "TaskSystem:Http:MaxConnectionsPerHost must be between 1 and 10000 (got 0)")]
    public async Task BadHttpSetting_StopsTheServer_WithAMessageNamingIt(string setting, string message)
    {
        using var directory = new TempDirectory();
        await using var server = ServerProcess.Launch("--TaskSystem:ConnectionString", directory.SqliteConnectionString, setting);

        var exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.NotEqual(0, exitCode);
        Assert.Contains(message, server.Output, StringComparison.Ordinal);
    }

    /// <summary>Runs a documented command with sh and returns what it wrote to stdout (curl's progress goes to stderr).</summary>
    private static async Task<string> ShAsync(string command)
    {
        var start = new System.Diagnostics.ProcessStartInfo("sh", ["-c", command]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(deadline.Token);
        Assert.True(process.ExitCode == 0, $"'{command}' exited with {process.ExitCode}: {await stderr}");
        return await stdout;
    }
}
