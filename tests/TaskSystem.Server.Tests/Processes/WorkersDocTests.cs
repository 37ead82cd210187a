using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using TaskSystem.Server.Tests.Support;
using TaskSystem.Tests.Support;

namespace TaskSystem.Server.Tests.Processes;

/// <summary>
/// docs/workers.md's "Try it" works as written: its commands run through bash, against the real server started with
/// the settings the page gives, with the page's own worker command; only the address is the test's.
/// </summary>
public sealed partial class WorkersDocTests
{
    private const string DocAddress = "http://localhost:4000";

    [Fact]
    public async Task TryIt_CommandsWorkAsWritten()
    {
        var section = Section(await File.ReadAllTextAsync(Path.Combine(WorkerSample.RepositoryRoot(), "docs", "workers.md")), "## Try it");
        var blocks = ShellBlocks().Matches(section).Select(m => m.Groups[1].Value.Trim()).ToList();
        Assert.Equal(3, blocks.Count);
        var serverCommand = blocks[0];
        Assert.StartsWith("dotnet run --project src/TaskSystem.Server -- ", serverCommand, StringComparison.Ordinal);
        var settings = await BashWordsAsync(serverCommand["dotnet run --project src/TaskSystem.Server -- ".Length..]);

        using var directory = new TempDirectory();
        await using var server = await ServerProcess.StartAsync([.. settings, "--TaskSystem:ConnectionString", directory.SqliteConnectionString]);
        var address = server.Address.ToString().TrimEnd('/');
        using var worker = StartBash(blocks[1].Replace(DocAddress, address, StringComparison.Ordinal));
        foreach (var line in blocks[2].Split('\n'))
        {
            var (exitCode, output) = await RunBashAsync(line.Replace(DocAddress, address, StringComparison.Ordinal));
            Assert.True(exitCode == 0, $"`{line}` exited with {exitCode}: {output}");
        }

        var counted = await Eventually.Until(() => server.Client.GetTaskAsync(1), t => t.State() == "succeeded" || worker.Process.HasExited,
            because: "task 1 to succeed");
        Assert.False(worker.Process.HasExited, "the worker exited: " + worker.Output);
        Assert.Equal(4, counted.GetProperty("result").GetProperty("words").GetInt32());
        Assert.StartsWith("worker:python-", counted.GetProperty("node").GetString(), StringComparison.Ordinal);
        await server.Client.WaitForStateAsync(2, "running");

        var stop = InlineDelete().Match(section).Groups[1].Value;
        var (stopExit, stopOutput) = await RunBashAsync(stop.Replace(DocAddress, address, StringComparison.Ordinal));
        Assert.True(stopExit == 0, stopOutput);
        await server.Client.WaitForStateAsync(2, "cancelled");
        await Eventually.Until(() => worker.Output.Contains("task 1 (word-count) attempt 1: succeeded", StringComparison.Ordinal), because: "the worker's line for task 1");
    }

    private static string Section(string markdown, string heading)
    {
        var start = markdown.IndexOf(heading + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"docs/workers.md has no '{heading}' section");
        var end = markdown.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
        return end < 0 ? markdown[start..] : markdown[start..end];
    }

    /// <summary>Lets bash split the words, quotes and all, as it would for the reader.</summary>
    private static async Task<string[]> BashWordsAsync(string words)
    {
        var (exitCode, output) = await RunBashAsync("printf '%s\\n' " + words);
        Assert.Equal(0, exitCode);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static async Task<(int ExitCode, string Output)> RunBashAsync(string command)
    {
        using var bash = StartBash(command);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await bash.Process.WaitForExitAsync(deadline.Token);
        return (bash.Process.ExitCode, bash.Output);
    }

    /// <summary>Runs the command in bash from the repository's root, as the reader would type it.</summary>
    private static BashCommand StartBash(string command)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = WorkerSample.RepositoryRoot() };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        return new BashCommand(start);
    }

    private sealed class BashCommand : IDisposable
    {
        private readonly StringBuilder _output = new();

        public BashCommand(ProcessStartInfo start)
        {
            Process = new Process { StartInfo = start };
            Process.OutputDataReceived += (_, e) => Append(e.Data);
            Process.ErrorDataReceived += (_, e) => Append(e.Data);
            Process.Start();
            Process.BeginOutputReadLine();
            Process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        private void Append(string? line)
        {
            if (line is not null)
            {
                lock (_output)
                {
                    _output.AppendLine(line);
                }
            }
        }

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit();
            }

            Process.Dispose();
        }
    }

    [GeneratedRegex(@"```sh\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex ShellBlocks();

    [GeneratedRegex(@"`(curl -X DELETE [^`]+)`")]
    private static partial Regex InlineDelete();
}
