using System.Text.Json;
using System.Text.RegularExpressions;

namespace TaskSystem.Server.Tests.Processes;

/// <summary>
/// The README's "Try it" section runs top to bottom as written: its shell blocks, in order, through bash, against a
/// real server on a new database; only the address is the test's. Each command answers what its comment says.
/// </summary>
public sealed partial class ReadmeTryItTests
{
    private const string DocAddress = "http://localhost:4000";

    /// <summary>Wraps curl so that each call also prints its status; the commands themselves stay as written.</summary>
    private const string StatusOfEachCall = "curl() { command curl -sS -w '\\n@status %{http_code}\\n' \"$@\"; }\n";

    [Fact]
    public async Task TryIt_RunsTopToBottom_AndEachCommandAnswersWhatItsCommentSays()
    {
        var section = Section(RepositoryDocs.Read("README.md"), "## Try it");
        var blocks = RepositoryDocs.CodeBlocks(section, "bash");
        Assert.Equal(2, blocks.Count);

        using var directory = new TempDirectory();
        await using var server = await ServerProcess.StartAsync("--TaskSystem:ConnectionString", directory.SqliteConnectionString);
        var address = server.Address.ToString().TrimEnd('/');

        var answers = new List<(int Status, string Body)>();
        foreach (var block in blocks)
        {
            var (exitCode, output) = await ProcessRunner.RunAsync("bash", ["-c", StatusOfEachCall + block.Replace(DocAddress, address, StringComparison.Ordinal)],
                TimeSpan.FromSeconds(60), RepositoryDocs.Root, environment: null);
            Assert.True(exitCode == 0, $"the block exited with {exitCode}:\n{block}\n{output}");
            answers.AddRange(StatusLine().Matches(output).Select(m => (int.Parse(m.Groups["status"].Value, System.Globalization.CultureInfo.InvariantCulture), m.Groups["body"].Value)));
        }

        // Each comment states the status first: "# Create a task: 201 ...", "# 200: every task ...".
        var promised = blocks.SelectMany(b => PromisedStatus().Matches(b)).Select(m => int.Parse(m.Groups["status"].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal([201, 200, 204, 201, 200, 200], promised);

        // The README's own alternative: the demo task runs 1 to 5 s, so on a slow machine it may have finished before
        // the stop (409), and then it is succeeded and cannot be retried (409), as the comments say.
        var stoppedInTime = answers[2].Status != 409;
        Assert.Equal(stoppedInTime ? promised : [201, 200, 409, 201, 200, 409], answers.Select(a => a.Status));
        Assert.Equal(1, Json(answers[0].Body).GetProperty("id").GetInt64());
        Assert.Contains(Json(answers[1].Body).GetProperty("tasks").EnumerateArray(), t => t.GetProperty("id").GetInt64() == 1 && t.GetProperty("state").GetString() == "running");
        var all = Json(answers[4].Body).GetProperty("tasks").EnumerateArray().ToDictionary(t => t.GetProperty("id").GetInt64(), t => t.GetProperty("state").GetString());
        Assert.Equal(stoppedInTime ? "cancelled" : "succeeded", all[1]);
        Assert.Contains(all[2], new[] { "queued", "running" });
        if (stoppedInTime)
        {
            Assert.Equal("queued", Json(answers[5].Body).GetProperty("state").GetString());
        }
    }

    private static JsonElement Json(string body) => JsonDocument.Parse(body).RootElement;

    private static string Section(string markdown, string heading)
    {
        var start = markdown.IndexOf("\n" + heading, StringComparison.Ordinal);
        Assert.True(start >= 0, $"README.md has no '{heading}' section");
        var end = markdown.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
        return end < 0 ? markdown[start..] : markdown[start..(end + 1)];
    }

    [GeneratedRegex(@"(?<body>[^\n]*)\n@status (?<status>\d{3})")]
    private static partial Regex StatusLine();

    /// <summary>The status a command's comment promises: the first three-digit 2xx to 4xx number of the comment just above it.</summary>
    [GeneratedRegex(@"^#[^\n]*?\b(?<status>[2-4]\d\d)\b[^\n]*\n(?:#[^\n]*\n)*curl", RegexOptions.Multiline)]
    private static partial Regex PromisedStatus();
}
