using System.Globalization;
using System.Text.Json;
using TaskSystem.Server.Tests.Support;

namespace TaskSystem.Server.Tests.Cli;

/// <summary>
/// The <c>tasksystem</c> tool, built and run as a child process, against the real server (its own code on Kestrel,
/// over a loopback socket: see <see cref="InProcessServer"/>): output and exit codes of every command.
/// </summary>
public sealed class CliToolTests
{
    private const string Key = "cli-test-key-0123456789abcdef";

    private static Task<InProcessServer> StartAsync(TempDirectory directory, params string[] settings) =>
        InProcessServer.StartAsync(["--TaskSystem:ConnectionString", directory.SqliteConnectionString, "--TaskSystem:ApiKeys:0", Key, .. settings]);

    private static long Id(CliTool.Result result) => JsonDocument.Parse(result.Output).RootElement.GetProperty("id").GetInt64();

    [Fact]
    public async Task AddGetLsStopRetry_PrintTablesOrJson_WithTheDocumentedExitCodes()
    {
        using var directory = new TempDirectory();
        await using var server = await StartAsync(directory);
        var url = server.Address;

        // add: the key from the environment; --json prints the task.
        var added = await CliTool.RunAsync(url, Key, "add", "demo", "--payload", """{"durationMs": 60000}""", "--queue", "cli", "--json");
        Assert.True(added.ExitCode == 0, added.ToString());
        var id = Id(added);
        var second = Id(await CliTool.RunAsync(url, Key, "add", "demo", "--payload", """{"durationMs": 60000}""", "--queue", "cli", "--run-at", "2099-01-01T00:00:00Z", "--json"));

        // The same add as a table, the URL and key as options.
        var table = await CliTool.RunAsync(null, null, "--url", url.ToString(), "--api-key", Key, "add", "demo", "--queue", "other", "--key", "k-1");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("enqueued", table.Output, StringComparison.Ordinal);
        Assert.Contains("STATE", table.Output, StringComparison.Ordinal);
        var again = await CliTool.RunAsync(url, Key, "add", "demo", "--queue", "other", "--key", "k-1");
        Assert.Contains("already holds key 'k-1'", again.Output, StringComparison.Ordinal);

        // get: a field a row.
        var got = await CliTool.RunAsync(url, Key, "get", id.ToString(CultureInfo.InvariantCulture));
        Assert.True(got.ExitCode == 0, got.ToString());
        Assert.Contains("durationMs", got.Output, StringComparison.Ordinal);
        Assert.Contains("cli", got.Output, StringComparison.Ordinal);

        // ls: filters and pages.
        var listed = await CliTool.RunAsync(url, Key, "ls", "--queue", "cli");
        Assert.True(listed.ExitCode == 0, listed.ToString());
        Assert.Contains(id.ToString(CultureInfo.InvariantCulture), listed.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("other", listed.Output, StringComparison.Ordinal);
        var page = JsonDocument.Parse((await CliTool.RunAsync(url, Key, "ls", "--queue", "cli", "--limit", "1", "--json")).Output).RootElement;
        Assert.Equal(second, Assert.Single(page.GetProperty("tasks").EnumerateArray()).GetProperty("id").GetInt64());
        var cursor = page.GetProperty("nextCursor").GetString()!;
        var next = JsonDocument.Parse((await CliTool.RunAsync(url, Key, "ls", "--queue", "cli", "--limit", "1", "--cursor", cursor, "--json")).Output).RootElement;
        Assert.Equal(id, Assert.Single(next.GetProperty("tasks").EnumerateArray()).GetProperty("id").GetInt64());
        var scheduled = JsonDocument.Parse((await CliTool.RunAsync(url, Key, "ls", "--state", "scheduled", "--type", "demo", "--json")).Output).RootElement;
        Assert.Equal([second], scheduled.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("id").GetInt64()));

        // stop, then stop again (409), retry, and the errors' codes.
        var stopped = await CliTool.RunAsync(url, Key, "stop", second.ToString(CultureInfo.InvariantCulture));
        Assert.True(stopped.ExitCode == 0, stopped.ToString());
        Assert.Contains("stopped", stopped.Output, StringComparison.Ordinal);
        var done = Id(await CliTool.RunAsync(url, Key, "add", "demo", "--wait", "--json"));
        var conflict = await CliTool.RunAsync(url, Key, "stop", done.ToString(CultureInfo.InvariantCulture));
        Assert.True(conflict.ExitCode == 5, conflict.ToString());
        Assert.Contains("409", conflict.Error, StringComparison.Ordinal);
        var retried = await CliTool.RunAsync(url, Key, "retry", second.ToString(CultureInfo.InvariantCulture), "--json");
        Assert.True(retried.ExitCode == 0, retried.ToString());
        Assert.Equal(second, Id(retried));

        var missing = await CliTool.RunAsync(url, Key, "get", "999999");
        Assert.True(missing.ExitCode == 4, missing.ToString());
        Assert.Contains("404", missing.Error, StringComparison.Ordinal);
        var missingJson = await CliTool.RunAsync(url, Key, "get", "999999", "--json");
        Assert.Equal(404, JsonDocument.Parse(missingJson.Error).RootElement.GetProperty("status").GetInt32());
        var invalid = await CliTool.RunAsync(url, Key, "add", "no-such-type");
        Assert.True(invalid.ExitCode == 3, invalid.ToString());
        Assert.Contains("(field: type)", invalid.Error, StringComparison.Ordinal);
        var badKey = await CliTool.RunAsync(url, "wrong-key-0123456789abcdef", "ls");
        Assert.True(badKey.ExitCode == 6, badKey.ToString());
        Assert.Contains("401", badKey.Error, StringComparison.Ordinal);
        var unreachable = await CliTool.RunAsync(ServerProcess.FreeAddress(), Key, "ls");
        Assert.True(unreachable.ExitCode == 7, unreachable.ToString());
        Assert.Contains("cannot reach", unreachable.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UsageErrors_HaveTheirOwnExitCode_AndHelpIsZero()
    {
        var unknown = await CliTool.RunAsync(null, null, "frobnicate");
        Assert.True(unknown.ExitCode == 2, unknown.ToString());
        var notJson = await CliTool.RunAsync(ServerProcess.FreeAddress(), null, "add", "demo", "--payload", "{not json");
        Assert.True(notJson.ExitCode == 2, notJson.ToString());
        Assert.Contains("--payload is not JSON", notJson.Error, StringComparison.Ordinal);
        var badUrl = await CliTool.RunAsync(null, null, "--url", "localhost:4000", "ls");
        Assert.True(badUrl.ExitCode == 2, badUrl.ToString());
        var help = await CliTool.RunAsync(null, null, "--help");
        Assert.True(help.ExitCode == 0, help.ToString());
        foreach (var command in new[] { "add", "ls", "get", "stop", "retry", "watch" })
        {
            Assert.Contains(command, help.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Watch_SeesATaskFinish_AndExits9WhenItFailed()
    {
        using var directory = new TempDirectory();
        await using var server = await StartAsync(directory);
        var url = server.Address;

        var id = Id(await CliTool.RunAsync(url, Key, "add", "demo", "--payload", """{"durationMs": 1500}""", "--json"));
        var watched = await CliTool.RunAsync(url, Key, "watch", id.ToString(CultureInfo.InvariantCulture));
        Assert.True(watched.ExitCode == 0, watched.ToString());
        var lines = watched.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains($"task {id}  succeeded", lines[^1], StringComparison.Ordinal);

        // A task that fails its only attempt: the JSON lines end with it failed, and the exit code says so.
        var failing = Id(await CliTool.RunAsync(url, Key, "add", "demo", "--payload", """{"durationMs": 200, "failAttempts": 5}""", "--max-attempts", "1", "--json"));
        var failed = await CliTool.RunAsync(url, Key, "watch", failing.ToString(CultureInfo.InvariantCulture), "--json");
        Assert.True(failed.ExitCode == 9, failed.ToString());
        var last = JsonDocument.Parse(failed.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement;
        Assert.Equal((failing, "failed"), (last.GetProperty("id").GetInt64(), last.GetProperty("state").GetString()));

        // add --wait: the same, in one command.
        var waited = await CliTool.RunAsync(url, Key, "add", "demo", "--payload", """{"durationMs": 100}""", "--wait");
        Assert.True(waited.ExitCode == 0, waited.ToString());
        Assert.Contains("succeeded", waited.Output, StringComparison.Ordinal);

        // A wrong key: the stream is refused with the auth exit code.
        var refused = await CliTool.RunAsync(url, "wrong-key-0123456789abcdef", "watch", id.ToString(CultureInfo.InvariantCulture));
        Assert.True(refused.ExitCode == 6, refused.ToString());
    }

    [Fact]
    public async Task AFullQueue_IsTheBusyExitCode()
    {
        using var directory = new TempDirectory();
        await using var server = await StartAsync(directory, "--TaskSystem:MaxQueued", "1");

        var first = await CliTool.RunAsync(server.Address, Key, "add", "demo", "--run-at", "2099-01-01T00:00:00Z");
        Assert.True(first.ExitCode == 0, first.ToString());
        var full = await CliTool.RunAsync(server.Address, Key, "add", "demo", "--run-at", "2099-01-01T00:00:00Z");
        Assert.True(full.ExitCode == 8, full.ToString());
        Assert.Contains("503", full.Error, StringComparison.Ordinal);
        Assert.Contains("Try again in", full.Error, StringComparison.Ordinal);
    }
}
