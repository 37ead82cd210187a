using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace TaskSystem.Server.Tests.Cli;

/// <summary>docs/cli.md's session, run line by line with the built tool against a fresh server: each exit code as the page says.</summary>
public sealed partial class CliDocsTests
{
    private const string Key = "cli-docs-key-0123456789abcdef";

    [Fact]
    public async Task TheSessionOfDocsCli_RunsAsWritten()
    {
        var session = RepositoryDocs.CodeBlocks(RepositoryDocs.Read("docs/cli.md"), "bash").Single(b => b.Contains("tasksystem watch 1", StringComparison.Ordinal));
        using var directory = new TempDirectory();
        await using var server = await ServerProcess.StartAsync("--TaskSystem:ConnectionString", directory.SqliteConnectionString, "--TaskSystem:ApiKeys:0", Key);

        var ran = 0;
        foreach (var line in session.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith("export ", StringComparison.Ordinal))
            {
                // The page's address and key stand for this server's.
                Assert.Contains("TASKSYSTEM_URL=", line, StringComparison.Ordinal);
                Assert.Contains("TASKSYSTEM_API_KEY=", line, StringComparison.Ordinal);
                continue;
            }

            var match = CommandLine().Match(line);
            Assert.True(match.Success, $"Not a tasksystem command: {line}");
            var expected = match.Groups["exit"].Success ? int.Parse(match.Groups["exit"].Value, CultureInfo.InvariantCulture) : 0;
            var result = await CliTool.RunAsync(server.Address, Key, [.. Words(match.Groups["args"].Value)]);
            Assert.True(result.ExitCode == expected, $"{line}\n{result}");
            ran++;
        }

        Assert.True(ran >= 10, $"Only {ran} commands in the session.");
    }

    /// <summary>The words of a command line as a POSIX shell splits them, for what the page uses: spaces and single quotes.</summary>
    private static List<string> Words(string text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var quoted = false;
        var any = false;
        foreach (var c in text)
        {
            if (c == '\'')
            {
                quoted = !quoted;
                any = true;
            }
            else if (c == ' ' && !quoted)
            {
                if (any)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    any = false;
                }
            }
            else
            {
                word.Append(c);
                any = true;
            }
        }

        Assert.False(quoted, $"An unclosed quote in: {text}");
        if (any)
        {
            words.Add(word.ToString());
        }

        return words;
    }

    [GeneratedRegex(@"^tasksystem (?<args>.*?)\s*(#\s*exit (?<exit>\d+))?$")]
    private static partial Regex CommandLine();
}
