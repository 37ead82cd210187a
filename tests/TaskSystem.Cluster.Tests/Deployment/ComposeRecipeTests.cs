using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using static TaskSystem.Cluster.Tests.Support.TaskApi;

namespace TaskSystem.Cluster.Tests.Deployment;

/// <summary>
/// docs/cluster.md's Docker recipe, without Docker: deploy/docker-compose.yml and the Dockerfile are read as Compose
/// and the image would read them, and each node service runs as a child process with exactly the environment its
/// container would have (the image's ENV, then the service's, interpolated from the env file the docs' command
/// writes). Only what a container network changes is mapped: the host "postgres" is a throwaway PostgreSQL here, and
/// each published port a free one. Compose's own syntax is not checked here (docker compose config does that).
/// </summary>
public sealed class ComposeRecipeTests
{
    private const string ComposePath = "deploy/docker-compose.yml";

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task ComposeNodes_StartWithTheirServiceEnvironment_AndShareOneQueue()
    {
        var compose = ComposeFile.Parse(RepositoryDocs.Read(ComposePath));
        var image = Dockerfile.Parse(RepositoryDocs.Read("Dockerfile"));
        var variables = await RunDocsKeyCommandAsync();
        var nodes = compose.BuiltServices.ToList();
        Assert.Equal(["node1", "node2"], nodes);

        await using var postgres = await PostgresServer.StartOwnAsync();
        await CreateDatabaseOfServiceAsync(postgres, compose.Environment("postgres", variables));

        var servers = new List<ServerProcess>();
        try
        {
            foreach (var node in nodes)
            {
                var environment = new Dictionary<string, string>(image.Environment());
                foreach (var (name, value) in compose.Environment(node, variables))
                {
                    environment[name] = value;
                }

                var address = ServerProcess.FreeAddress();
                MapContainerNetwork(environment, compose.Ports(node), address.Port, postgres.Port);
                var server = await ServerProcess.StartWithEnvironmentAsync(address, environment, node);
                servers.Add(server);
                server.Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", variables["TASKSYSTEM_API_KEY"]);

                // The image's HEALTHCHECK, run as Docker runs it inside the container: same environment, no arguments added.
                var (exitCode, output) = await RunHealthCheckAsync(image, environment);
                Assert.True(exitCode == 0, $"the HEALTHCHECK of {node} exited with {exitCode}: {output}");
            }

            // The key is required: the nodes listen beyond the machine.
            using (var anonymous = new HttpClient { BaseAddress = servers[0].Address })
            using (var refused = await anonymous.PostAsync("/tasks", new StringContent("{}")))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            }

            var ids = new List<long>();
            for (var i = 0; i < 24; i++)
            {
                ids.Add(await EnqueueDemoAsync(servers[i % servers.Count].Http, durationMs: 400));
            }

            var finished = await EventuallyAsync(() => ListAsync(servers[1].Http), all => all.Count(t => t.State == "succeeded") == ids.Count,
                TimeSpan.FromSeconds(60), "every task succeeded");
            Assert.Equal(nodes, finished.Select(t => t.Node!).Distinct().Order());
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task ComposeNodes_WithoutAnApiKey_ComposeRefusesToStartThem_AndAFailedStartIsNotRetriedForever()
    {
        var compose = ComposeFile.Parse(RepositoryDocs.Read(ComposePath));

        foreach (var node in compose.BuiltServices)
        {
            var refused = Assert.Throws<InvalidOperationException>(() => compose.Environment(node, new Dictionary<string, string>()));
            Assert.Contains("TASKSYSTEM_API_KEY", refused.Message, StringComparison.Ordinal);
            Assert.Contains("docs/cluster.md", refused.Message, StringComparison.Ordinal);

            // A node whose settings are wrong exits with code 2 at once: "always" or "unless-stopped" would loop on it.
            var restart = compose.Restart(node) ?? "no";
            Assert.True(restart == "no" || restart.StartsWith("on-failure:", StringComparison.Ordinal), $"{node} restarts with '{restart}'");
        }

        // What that policy bounds: a wrong setting (here a key too short) makes a node exit at once with code 2 and
        // a message naming the setting, which "on-failure:N" retries N times and then leaves in the logs.
        var image = Dockerfile.Parse(RepositoryDocs.Read("Dockerfile"));
        var environment = new Dictionary<string, string>(image.Environment());
        foreach (var (name, value) in compose.Environment("node1", new Dictionary<string, string> { ["TASKSYSTEM_API_KEY"] = "k" }))
        {
            environment[name] = value;
        }

        var address = ServerProcess.FreeAddress();
        MapContainerNetwork(environment, compose.Ports("node1"), address.Port, postgresPort: LoopbackPort.Free());
        var (exitCode, output) = await RunServerAsync([], environment);
        Assert.True(exitCode == 2, $"expected exit code 2 for a key too short, got {exitCode}: {output}");
        Assert.Contains("TaskSystem:ApiKeys:0", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ImageHealthCheck_FollowsTheConfiguredPort()
    {
        var image = Dockerfile.Parse(RepositoryDocs.Read("Dockerfile"));
        await using var server = await ServerProcess.StartAsync();

        var environment = new Dictionary<string, string>(image.Environment()) { ["URLS"] = $"http://+:{server.Port}" };
        var (healthy, output) = await RunHealthCheckAsync(image, environment);
        Assert.True(healthy == 0, $"the HEALTHCHECK on the server's port exited with {healthy}: {output}");

        environment["URLS"] = $"http://+:{LoopbackPort.Free()}";
        var (unhealthy, _) = await RunHealthCheckAsync(image, environment);
        Assert.Equal(1, unhealthy);
    }

    [Fact]
    public async Task Dockerfile_RestoresFromTheProjectFilesAlone_BeforeCopyingTheSources_AndKeepsUserVolumeAndPort()
    {
        var image = Dockerfile.Parse(RepositoryDocs.Read("Dockerfile"));
        var build = image.Stage("build");
        var restore = build.ToList().FindIndex(i => i.Instruction == "RUN" && i.Arguments.StartsWith("dotnet restore", StringComparison.Ordinal));
        var copySources = build.ToList().FindIndex(i => i.Instruction == "COPY" && i.Arguments == "src/ src/");
        Assert.True(restore >= 0 && copySources > restore, "the restore runs before the sources are copied");
        Assert.Contains(build.Skip(copySources), i => i.Instruction == "RUN" && i.Arguments.Contains("dotnet publish", StringComparison.Ordinal) && i.Arguments.Contains("--no-restore", StringComparison.Ordinal));

        // The restore layer as Docker builds it: only the files copied before it, then its command.
        using var context = new TempDirectory();
        foreach (var (_, arguments) in build.Take(restore).Where(i => i.Instruction == "COPY"))
        {
            var parts = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var destination = Path.Combine(context.Path, parts[^1] == "./" ? "" : parts[^1]);
            Directory.CreateDirectory(destination);
            foreach (var source in parts[..^1])
            {
                File.Copy(Path.Combine(RepositoryDocs.Root, source), Path.Combine(destination, Path.GetFileName(source)));
            }
        }

        var (exitCode, output) = await ProcessRunner.RunAsync("sh", ["-c", build[restore].Arguments], CommandTimeout, context.Path, environment: null);
        Assert.True(exitCode == 0, $"the restore layer failed with only the project files copied:\n{output}");

        var final = image.Stage();
        Assert.Contains(("USER", "app"), final);
        Assert.Contains(("VOLUME", "/data"), final);
        Assert.Contains(("EXPOSE", "4000"), final);
        Assert.Equal("http://+:4000", image.Environment()["URLS"]);
    }

    [Fact]
    public async Task DocsCommandWithoutDocker_StartsANodeThatWantsTheKey()
    {
        const string DocConnectionString = "Host=db.internal;Username=tasksystem;Password=...;Database=tasksystem";
        var block = RepositoryDocs.CodeBlocks(RepositoryDocs.Read("docs/cluster.md"), "sh").Single(b => b.Contains("dotnet TaskSystem.Server.dll", StringComparison.Ordinal));
        Assert.Contains(DocConnectionString, block, StringComparison.Ordinal);
        Assert.Contains("http://0.0.0.0:4000", block, StringComparison.Ordinal);

        // As written, but for what is the reader's own: the database's address and a free port. The binary is the
        // one built beside the tests (the command runs from its folder); exec lets the test stop it.
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync();
        var address = ServerProcess.FreeAddress();
        var script = block
            .Replace(DocConnectionString, database, StringComparison.Ordinal)
            .Replace("http://0.0.0.0:4000", $"http://0.0.0.0:{address.Port}", StringComparison.Ordinal)
            .Replace("dotnet TaskSystem.Server.dll", "exec dotnet TaskSystem.Server.dll", StringComparison.Ordinal);
        await using var node = ChildProcess.Start("bash", ["-c", $"cd '{AppContext.BaseDirectory}' && {script}"]);
        using var http = new HttpClient { BaseAddress = address };

        try
        {
            await Eventually.Until(
                async () =>
                {
                    try
                    {
                        using var ready = await http.GetAsync(new Uri("/health/ready", UriKind.Relative));
                        return ready.StatusCode == HttpStatusCode.OK;
                    }
                    catch (HttpRequestException)
                    {
                        return false;
                    }
                },
                ok => ok, TimeSpan.FromSeconds(60), "the node started by the docs' command answers ready");
        }
        catch (TimeoutException timeout)
        {
            throw new TimeoutException($"{timeout.Message}\nIts output:\n{node.Output}", timeout);
        }
        using var refused = await http.PostAsync("/tasks", new StringContent("{}"));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    /// <summary>Runs the docs' line that writes deploy/.env, in a folder of its own, and reads the file as Compose does.</summary>
    private static async Task<IReadOnlyDictionary<string, string>> RunDocsKeyCommandAsync()
    {
        var line = RepositoryDocs.CodeBlocks(RepositoryDocs.Read("docs/cluster.md"), "sh")
            .SelectMany(block => block.Split('\n'))
            .Single(l => l.Contains("> deploy/.env", StringComparison.Ordinal));
        using var folder = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(folder.Path, "deploy"));
        var (exitCode, output) = await ProcessRunner.RunAsync("bash", ["-c", line], CommandTimeout, folder.Path, environment: null);
        Assert.True(exitCode == 0, $"'{line}' failed: {output}");
        var variables = ComposeFile.ReadEnvFile(File.ReadAllText(Path.Combine(folder.Path, "deploy", ".env")));
        Assert.Matches("^[0-9a-f]{64}$", variables["TASKSYSTEM_API_KEY"]);
        return variables;
    }

    /// <summary>What the postgres image does at its first start: a user with the password, and a database it owns.</summary>
    private static async Task CreateDatabaseOfServiceAsync(PostgresServer postgres, IReadOnlyDictionary<string, string> service)
    {
        await using var connection = new NpgsqlConnection(postgres.AdminConnectionString);
        await connection.OpenAsync();
        foreach (var sql in new[]
        {
            $"CREATE ROLE \"{service["POSTGRES_USER"]}\" LOGIN PASSWORD '{service["POSTGRES_PASSWORD"].Replace("'", "''", StringComparison.Ordinal)}'",
            $"CREATE DATABASE \"{service["POSTGRES_DB"]}\" OWNER \"{service["POSTGRES_USER"]}\"",
        })
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }
    }

    /// <summary>
    /// What the container network does and a machine's processes cannot: the service name "postgres" on its port
    /// 5432 is the throwaway server, and the container port a service publishes is a free port of this machine.
    /// </summary>
    private static void MapContainerNetwork(Dictionary<string, string> environment, IReadOnlyList<(int Host, int Container)> ports, int hostPort, int postgresPort)
    {
        var connection = new NpgsqlConnectionStringBuilder(environment["TaskSystem__ConnectionString"]);
        Assert.Equal(("postgres", 5432), (connection.Host, connection.Port));
        connection.Host = "127.0.0.1";
        connection.Port = postgresPort;
        environment["TaskSystem__ConnectionString"] = connection.ConnectionString;

        var (_, container) = Assert.Single(ports);
        var suffix = ":" + container.ToString(CultureInfo.InvariantCulture);
        Assert.EndsWith(suffix, environment["URLS"], StringComparison.Ordinal);
        environment["URLS"] = environment["URLS"][..^suffix.Length] + ":" + hostPort.ToString(CultureInfo.InvariantCulture);
    }

    private static Task<(int ExitCode, string Output)> RunHealthCheckAsync(Dockerfile image, IReadOnlyDictionary<string, string> environment)
    {
        var command = image.HealthCheckCommand();
        Assert.Equal(["dotnet", "TaskSystem.Server.dll"], command.Take(2));
        return RunServerAsync([.. command.Skip(2)], environment);
    }

    /// <summary>Runs TaskSystem.Server.dll to its end with exactly <paramref name="environment"/> as its settings.</summary>
    private static Task<(int ExitCode, string Output)> RunServerAsync(string[] arguments, IReadOnlyDictionary<string, string> environment)
    {
        var exact = new Dictionary<string, string?>(System.Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(ServerProcess.IsSetting).Select(name => KeyValuePair.Create(name, (string?)null)));
        foreach (var (name, value) in environment)
        {
            exact[name] = value;
        }

        return ProcessRunner.RunAsync(
            System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
            [Path.Combine(AppContext.BaseDirectory, "TaskSystem.Server.dll"), .. arguments], CommandTimeout, AppContext.BaseDirectory, exact);
    }
}
