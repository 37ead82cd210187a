using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TaskSystem.Cluster.Tests.Support;
using TaskSystem.TestSupport;
using static TaskSystem.Cluster.Tests.Support.TaskApi;

namespace TaskSystem.Cluster.Tests;

/// <summary>PostgreSQL restarts while two nodes take a steady stream of tasks: they answer 503 meanwhile, never 500, and lose nothing.</summary>
public sealed class PostgresRestartTests(PostgresRestartTests.Cluster cluster, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<PostgresRestartTests.Cluster>
{
    private const int Clients = 8;
    private const int MaxRequests = 50_000;
    private readonly PostgresServer _postgres = cluster.Postgres;
    private readonly IReadOnlyList<ServerProcess> _nodes = cluster.Nodes;
    private readonly ConcurrentBag<long> _accepted = [];
    private readonly ConcurrentDictionary<string, int> _answers = new();
    private int _requests;

    /// <summary>
    /// A PostgreSQL server of this class's own (stopping it must not disturb the other tests) and two nodes on it, for
    /// both ways of stopping it: the second restart finds nodes that already lived through the first.
    /// </summary>
    public sealed class Cluster : IAsyncLifetime
    {
        private readonly List<ServerProcess> _nodes = [];

        public PostgresServer Postgres { get; private set; } = null!;

        public IReadOnlyList<ServerProcess> Nodes => _nodes;

        public async Task InitializeAsync()
        {
            Postgres = await PostgresServer.StartOwnAsync();
            var database = await Postgres.CreateDatabaseAsync();
            string[] settings = ["--TaskSystem:Concurrency", "8", "--TaskSystem:LeaseDuration", "00:00:20", "--TaskSystem:HeartbeatInterval", "00:00:02"];
            _nodes.AddRange(await Task.WhenAll(
                ServerNodeProcess.StartAsync("node1", database, settings),
                ServerNodeProcess.StartAsync("node2", database, settings)));
        }

        public async Task DisposeAsync()
        {
            foreach (var node in _nodes)
            {
                await node.DisposeAsync();
            }

            await Postgres.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("fast")]
    [InlineData("immediate")]
    public async Task PostgresRestart_UnderLoad_NodesAnswer503Meanwhile_ReconnectByThemselves_AndLoseNoAcceptedTask(string stopMode)
    {
        using var stopLoad = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var load = Enumerable.Range(0, Clients).Select(i => Task.Run(() => SendTasksAsync(_nodes[i % _nodes.Count].Http, stopLoad.Token))).ToArray();

        await EventuallyAsync(() => Task.FromResult(_accepted.Count), n => n >= 300, TimeSpan.FromSeconds(30), "tasks are accepted");
        await _postgres.StopServerAsync(stopMode);
        await EventuallyAsync(() => Task.FromResult(Answers(503)), n => n >= 20, TimeSpan.FromSeconds(30), "the nodes answer 503 while PostgreSQL is down");
        var acceptedWhileDown = _accepted.Count;
        await _postgres.StartServerAsync();
        await EventuallyAsync(() => Task.FromResult(_accepted.Count), n => n >= acceptedWhileDown + 300, TimeSpan.FromSeconds(60), "tasks are accepted again");
        await stopLoad.CancelAsync();
        await Task.WhenAll(load);

        output.WriteLine("answers: " + string.Join(", ", _answers.Select(a => $"{a.Key} x{a.Value}")));
        var accepted = _accepted.ToHashSet();
        var tasks = await EventuallyAsync(() => ListAsync(_nodes[0].Http), all => all.Count(t => t.State == "succeeded" && accepted.Contains(t.Id)) == accepted.Count,
            TimeSpan.FromSeconds(90), "every accepted task succeeded");

        Assert.Equal(0, _answers.Where(a => a.Key is not ("201" or "503")).Sum(a => a.Value));
        Assert.All(_nodes, node => Assert.False(node.HasExited, $"{node.Name} is still running"));
        Assert.Empty(accepted.Except(tasks.Select(t => t.Id)));
    }

    private int Answers(int status) => _answers.GetValueOrDefault(status.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private async Task SendTasksAsync(HttpClient http, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested && Interlocked.Increment(ref _requests) <= MaxRequests)
        {
            try
            {
                using var response = await http.PostAsJsonAsync("/tasks", new { type = "demo", payload = new { durationMs = 5 } }, cancellationToken);
                _answers.AddOrUpdate(((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture), 1, (_, n) => n + 1);
                if (response.StatusCode == HttpStatusCode.Created)
                {
                    _accepted.Add((await response.Content.ReadFromJsonAsync<TaskView>(JsonSerializerOptions.Web, cancellationToken))!.Id);
                }
                else if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    Assert.True(response.Headers.RetryAfter is not null, "a 503 says when to try again");
                    await Task.Delay(20, cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (HttpRequestException exception)
            {
                _answers.AddOrUpdate("no answer: " + exception.Message, 1, (_, n) => n + 1);
            }
        }
    }
}
