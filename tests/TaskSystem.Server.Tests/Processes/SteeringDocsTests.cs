using Microsoft.Extensions.Configuration;
using TaskSystem.Engine;
using TaskSystem.TestSupport;

namespace TaskSystem.Server.Tests.Processes;

/// <summary>The commands and settings docs/lifecycle.md and docs/production.md show for progress and queues, run as written.</summary>
public sealed class SteeringDocsTests
{
    [Fact]
    public async Task LifecycleProgress_CurlCommands_ShowTheDemoTasksProgress()
    {
        var page = RepositoryDocs.Read("docs/lifecycle.md");
        var block = Assert.Single(RepositoryDocs.CodeBlocks(page, "sh"), b => b.Contains("progress", StringComparison.Ordinal));
        using var directory = new TempDirectory();
        await using var server = await ServerProcess.StartAsync(["--TaskSystem:ConnectionString", directory.SqliteConnectionString]);

        var output = await ShAsync(block.Replace("localhost:4000", $"localhost:{server.Port}", StringComparison.Ordinal));

        Assert.Matches("\"progress\":\\{\"percent\":[1-9][0-9.]*,\"message\":\"slept [0-9]+ of 10000 ms\"", output);
    }

    [Fact]
    public void ProductionQueues_JsonSnippet_SaysWhatTheEnvironmentVariablesSay()
    {
        var page = RepositoryDocs.Read("docs/production.md");
        var json = Assert.Single(RepositoryDocs.CodeBlocks(page, "json"), b => b.Contains("\"Queues\"", StringComparison.Ordinal));
        var variables = System.Text.RegularExpressions.Regex.Matches(page, "`(TaskSystem__[A-Za-z_*]+)=([^`]+)`")
            .Where(m => m.Groups[1].Value.StartsWith("TaskSystem__Queues", StringComparison.Ordinal) || m.Groups[1].Value == "TaskSystem__Concurrency")
            .ToDictionary(m => m.Groups[1].Value.Replace("__", ":", StringComparison.Ordinal), m => (string?)m.Groups[2].Value);

        var fromJson = Bind(new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))).Build());
        var fromVariables = Bind(new ConfigurationBuilder().AddInMemoryCollection(variables).Build());

        Assert.Equal(3, variables.Count);
        foreach (var options in new[] { fromJson, fromVariables })
        {
            var limits = new QueueLimits(options);
            Assert.Equal((8, true, 2, true), (options.Concurrency, limits.ServesAll, limits.LimitOf("emails"), limits.Serves("reports")));
        }
    }

    private static TaskSystemOptions Bind(IConfiguration configuration)
    {
        var options = new TaskSystemOptions();
        configuration.GetSection(TaskSystemOptions.SectionName).Bind(options);
        return options;
    }

    private static async Task<string> ShAsync(string command)
    {
        var start = new System.Diagnostics.ProcessStartInfo("sh", ["-c", command]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(deadline.Token);
        Assert.True(process.ExitCode == 0, $"'{command}' exited with {process.ExitCode}: {await stderr}");
        return await stdout;
    }
}
