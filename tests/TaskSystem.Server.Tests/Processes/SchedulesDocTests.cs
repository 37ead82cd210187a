using System.Text.Json;
using Microsoft.Extensions.Configuration;
using TaskSystem.Tests.Support;
using TaskSystem.TestSupport;

namespace TaskSystem.Server.Tests.Processes;

/// <summary>docs/schedules.md's commands, run as written against the real server (only the port changes).</summary>
public sealed class SchedulesDocTests
{
    private static readonly string Page = RepositoryDocs.Read("docs/schedules.md");

    private static IEnumerable<string> CurlLines() =>
        RepositoryDocs.CodeBlocks(Page, "bash").SelectMany(b => b.Split('\n')).Where(l => l.StartsWith("curl ", StringComparison.Ordinal));

    [Fact]
    public async Task EveryCurlCommand_Works_AndAnswersWhatThePageSays()
    {
        using var directory = new TempDirectory();
        await using var server = await ServerProcess.StartAsync("--TaskSystem:ConnectionString", directory.SqliteConnectionString);
        var outputs = new List<string>();

        foreach (var line in CurlLines())
        {
            outputs.Add(await ShAsync(line.Replace("http://localhost:4000", server.Address.AbsoluteUri.TrimEnd('/'), StringComparison.Ordinal)));
        }

        Assert.Equal(9, outputs.Count);
        Assert.All(outputs, o => Assert.DoesNotContain("\"status\":4", o.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal));
        var list = JsonDocument.Parse(outputs[2]).RootElement.GetProperty("schedules");
        Assert.Equal(["heartbeat", "nightly-report"], list.EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        Assert.Equal("nightly-report", JsonDocument.Parse(outputs[3]).RootElement.GetProperty("schedule").GetString());
        Assert.Contains("TaskSystem-Existing: true", outputs[7], StringComparison.OrdinalIgnoreCase);
        var batch = JsonDocument.Parse(outputs[8]).RootElement.GetProperty("tasks");
        Assert.Equal(2, batch.GetArrayLength());
    }

    [Fact]
    public async Task ConfigurationSnippet_DeclaresItsSchedules_AtStart()
    {
        var json = Assert.Single(RepositoryDocs.CodeBlocks(Page, "json"));
        var settings = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))).Build()
            .AsEnumerable().Where(p => p.Value is not null).SelectMany(p => new[] { $"--{p.Key}", p.Value! }).ToArray();

        using var directory = new TempDirectory();
        await using var server = await ServerProcess.StartAsync(["--TaskSystem:ConnectionString", directory.SqliteConnectionString, .. settings]);

        var list = JsonDocument.Parse(await server.Client.GetStringAsync(new Uri("/schedules", UriKind.Relative))).RootElement.GetProperty("schedules");
        Assert.Equal(["heartbeat", "nightly-report"], list.EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        Assert.Equal(("runOnce", "00:00:30"), (list[0].GetProperty("misfire").GetString(), list[0].GetProperty("every").GetString()));
        Assert.Equal(("skip", "Europe/Paris"), (list[1].GetProperty("overlap").GetString(), list[1].GetProperty("timeZone").GetString()));
    }

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
