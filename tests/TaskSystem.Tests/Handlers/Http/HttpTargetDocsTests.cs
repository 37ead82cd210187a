using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using TaskSystem.Tests.Support;
using TaskSystem.TestSupport;

namespace TaskSystem.Tests.Handlers.Http;

/// <summary>
/// The verification snippets of docs/http-targets.md, run as written: the Python, Node.js and ASP.NET Core receivers
/// check real http tasks' signatures (Python's hmac module, Node's crypto, .NET's), and the C# method is the one the
/// other tests verify with.
/// </summary>
public sealed class HttpTargetDocsTests
{
    private const string Secret = "docs-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
    private static readonly string Page = RepositoryDocs.Read("docs/http-targets.md");

    [Theory]
    [InlineData("python")]
    [InlineData("javascript")]
    [InlineData("csharp")]
    public async Task ReceiverSnippet_AcceptsSignedTasks_AndRefusesWrongKeysAndOldTimestamps(string language)
    {
        await using var receiver = await StartReceiverAsync(language);
        await using (var host = await StartHostAsync(receiver.Port, new HttpSigningKey { Id = "key-0", Secret = new string('z', 40) }, new HttpSigningKey { Id = "key-1", Secret = Secret }))
        {
            const string Body = """{"user": 42,   "name": "Zoë", "tags": ["a" , "b"]}""";
            var task = await host.EnqueueHttpAsync($$"""{"url": "http://127.0.0.1:{{receiver.Port}}/hooks/welcome", "body": {{Body}} }""");

            var done = await host.WaitForStateAsync(task.Id, TaskState.Succeeded);
            var answer = done.Result!.Value.GetProperty("body");
            Assert.Equal(task.Id.ToString(CultureInfo.InvariantCulture), answer.GetProperty("task").GetString());
            Assert.Equal(Encoding.UTF8.GetByteCount(Body), answer.GetProperty("bytes").GetInt32());
        }

        await using (var wrong = await StartHostAsync(receiver.Port, new HttpSigningKey { Id = "key-1", Secret = new string('w', 40) }))
        {
            var task = await wrong.EnqueueHttpAsync($$"""{"url": "http://127.0.0.1:{{receiver.Port}}/hooks/welcome", "body": "hello"}""", maxAttempts: 3);

            var failed = await wrong.WaitForStateAsync(task.Id, TaskState.Failed);
            Assert.Equal(1, failed.Attempt);
            Assert.Contains("answered 401", failed.Error, StringComparison.Ordinal);
        }

        // A request signed correctly, but ten minutes ago: a replay.
        using var client = new HttpClient();
        var old = DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var body = "{}"u8.ToArray();
        using var replay = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{receiver.Port}/hooks/welcome") { Content = new ByteArrayContent(body) };
        replay.Headers.Add("TaskSystem-Timestamp", old);
        replay.Headers.Add("TaskSystem-Signature", "key-1=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), (byte[])[.. Encoding.ASCII.GetBytes(old + "."), .. body])));
        using var refused = await client.SendAsync(replay);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public void CSharpSnippet_IsTheMethodTheTestsVerifyWith()
    {
        var source = RepositoryDocs.Read("tests/TaskSystem.Tests/Handlers/Http/TaskSystemSignature.cs");
        var method = source[source.IndexOf("public static class TaskSystemSignature", StringComparison.Ordinal)..];
        var snippet = Assert.Single(RepositoryDocs.CodeBlocks(Page, "csharp"), block => block.Contains("class TaskSystemSignature", StringComparison.Ordinal));

        Assert.StartsWith("using System.Security.Cryptography;\nusing System.Text;\n\n", snippet, StringComparison.Ordinal);
        Assert.EndsWith(method, snippet, StringComparison.Ordinal);
    }

    private static Task<EngineHost> StartHostAsync(int port, params HttpSigningKey[] keys) =>
        EngineHost.StartAsync(b => b.AddHttpTargets(o =>
        {
            o.AllowedTargets.Add($"http://127.0.0.1:{port}/hooks/");
            o.AllowPrivateNetworks = true;
            foreach (var key in keys)
            {
                o.SigningKeys.Add(key);
            }
        }));

    private static async Task<Receiver> StartReceiverAsync(string language)
    {
        var directory = new TempDirectory();
        var port = LoopbackPort.Free();
        var environment = new Dictionary<string, string>
        {
            ["PORT"] = port.ToString(CultureInfo.InvariantCulture),
            ["SIGNING_KEY_ID"] = "key-1",
            ["SIGNING_SECRET"] = Secret,
        };
        var process = language switch
        {
            "python" => ChildProcess.Start("python3", [await SaveAsync(directory, "receiver.py", Assert.Single(RepositoryDocs.CodeBlocks(Page, "python")))], environment),
            "javascript" => ChildProcess.Start("node", [await SaveAsync(directory, "receiver.js", Assert.Single(RepositoryDocs.CodeBlocks(Page, "javascript")))], environment),
            _ => await StartAspNetCoreReceiverAsync(directory, environment),
        };
        // `dotnet run` checks its build before it listens: minutes on a loaded machine. The deadline only bounds a failure.
        await process.WaitListeningAsync(port, language is "csharp" ? TimeSpan.FromMinutes(5) : TimeSpan.FromSeconds(60));
        return new Receiver(process, directory, port);
    }

    /// <summary>The ASP.NET Core receiver as the page says: <c>dotnet new web -o receiver</c>, the two files, <c>dotnet run --project receiver</c>.</summary>
    private static async Task<ChildProcess> StartAspNetCoreReceiverAsync(TempDirectory directory, Dictionary<string, string> environment)
    {
        var blocks = RepositoryDocs.CodeBlocks(Page, "csharp");
        var project = directory.File("receiver");
        var runLine = Assert.Single(RepositoryDocs.CodeBlocks(Page, "bash").SelectMany(b => b.Split('\n')), l => l.EndsWith(" dotnet run --project receiver", StringComparison.Ordinal));
        Assert.Contains("`dotnet new web -o receiver`", Page, StringComparison.Ordinal);

        // Outside the repository, so that none of its build settings apply: a new user's folder.
        await RunAsync(directory.Path, "dotnet", "new", "web", "-o", "receiver");
        await SaveAsync(directory, Path.Combine("receiver", "TaskSystemSignature.cs"), Assert.Single(blocks, b => b.Contains("class TaskSystemSignature", StringComparison.Ordinal)));
        await SaveAsync(directory, Path.Combine("receiver", "Program.cs"), Assert.Single(blocks, b => b.StartsWith("// Program.cs", StringComparison.Ordinal)));

        // Built first, so that the wait for the port below bounds only the start; then the documented command.
        await RunAsync(directory.Path, "dotnet", "build", "receiver");
        var command = runLine.Split(' ').SkipWhile(word => word.Contains('=', StringComparison.Ordinal)).ToList();
        Assert.Equal(["dotnet", "run", "--project", "receiver"], command);
        return ChildProcess.Start("dotnet", ["run", "--project", project], environment);
    }

    private static async Task<string> SaveAsync(TempDirectory directory, string name, string code)
    {
        var file = directory.File(name);
        await File.WriteAllTextAsync(file, code);
        return file;
    }

    private static async Task RunAsync(string workingDirectory, string fileName, params string[] arguments)
    {
        var (exitCode, output) = await ProcessRunner.RunAsync(fileName, arguments, TimeSpan.FromMinutes(5), workingDirectory, environment: null);
        Assert.True(exitCode == 0, $"{fileName} {string.Join(' ', arguments)} exited with {exitCode}:\n{output}");
    }

    private sealed record Receiver(ChildProcess Process, TempDirectory Directory, int Port) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Process.DisposeAsync();
            Directory.Dispose();
        }
    }
}
