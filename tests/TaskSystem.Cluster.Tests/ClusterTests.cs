using System.Net;
using System.Text.RegularExpressions;
using TaskSystem.Cluster.Tests.Support;
using TaskSystem.TestSupport;
using static TaskSystem.Cluster.Tests.Support.TaskApi;

namespace TaskSystem.Cluster.Tests;

/// <summary>Three real server processes over one PostgreSQL database behave as one node.</summary>
public sealed partial class ClusterTests : IAsyncLifetime
{
    /// <summary>Short leases so that a killed node's tasks come back within seconds.</summary>
    private static readonly string[] FastLeases =
    [
        "--TaskSystem:Concurrency", "4",
        "--TaskSystem:LeaseDuration", "00:00:03",
        "--TaskSystem:HeartbeatInterval", "00:00:01",
        "--TaskSystem:RescueInterval", "00:00:00.500",

        // Fencing as late as such a short lease allows: these tests are about spreading, stopping and failing over,
        // and a node slowed down by a busy machine should not interrupt its tasks sooner than its lease would expire.
        "--TaskSystem:SelfFenceAfter", "00:00:02.500",
        "--TaskSystem:ShutdownTimeout", "00:00:01",
    ];

    private readonly List<ServerProcess> _nodes = [];

    public async Task InitializeAsync()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync();
        _nodes.AddRange(await Task.WhenAll(
            ServerNodeProcess.StartAsync("node1", database, FastLeases),
            ServerNodeProcess.StartAsync("node2", database, FastLeases),
            ServerNodeProcess.StartAsync("node3", database, FastLeases)));
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task TasksSentToAnyNode_SpreadOverAllThree_AndEachRunsExactlyOnce()
    {
        var ids = new List<long>();
        for (var i = 0; i < 60; i++)
        {
            ids.Add(await EnqueueDemoAsync(_nodes[i % 3].Http, durationMs: 150));
        }

        var tasks = await EventuallyAsync(() => ListAsync(_nodes[0].Http), all => all.Count(t => t.State == "succeeded") == ids.Count,
            TimeSpan.FromSeconds(60), "every task succeeded");

        Assert.Equal(["node1", "node2", "node3"], tasks.Select(t => t.Node).Distinct().Order());
        Assert.All(tasks, t => Assert.Equal(1, t.Attempt));
        var runs = _nodes.SelectMany(n => n.OutputLines).Select(line => DemoRun().Match(line)).Where(m => m.Success).GroupBy(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToDictionary(g => g.Key, g => g.Count());
        Assert.All(ids, id => Assert.Equal(1, runs.GetValueOrDefault(id)));
    }

    [Fact]
    public async Task StopSentToOneNode_CancelsTheTaskWhereverItRuns_AndAnswers204()
    {
        var id = await EnqueueDemoAsync(_nodes[0].Http, durationMs: 600_000);
        var running = await EventuallyAsync(() => GetAsync(_nodes[0].Http, id), t => t.State == "running", TimeSpan.FromSeconds(15), "the task runs");
        var other = _nodes.First(n => n.Name != running.Node);

        var watch = System.Diagnostics.Stopwatch.StartNew();
        using var response = await other.Http.DeleteAsync($"/tasks/{id}");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"the stop took {watch.Elapsed}");
        var stopped = await GetAsync(other.Http, id);
        Assert.Equal(("cancelled", running.Node, 1), (stopped.State, stopped.Node, stopped.Attempt));
    }

    [Fact]
    public async Task NodeKilledWhileRunningTasks_TheOthersFinishThem_AndNoAcceptedTaskIsLost()
    {
        // A few long tasks, then short ones. The victim is a node seen running a long task: that task cannot have
        // finished by the time the node is killed, however slowly the test gets there (short ones could have).
        var ids = new List<long>();
        var longOnes = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            longOnes.Add(await EnqueueDemoAsync(_nodes[i].Http, durationMs: 10_000));
        }

        for (var i = 0; i < 24; i++)
        {
            ids.Add(await EnqueueDemoAsync(_nodes[i % 3].Http, durationMs: 2000));
        }

        ids.AddRange(longOnes);
        var running = await EventuallyAsync(() => ListAsync(_nodes[0].Http, "running"), all => all.Any(t => longOnes.Contains(t.Id)),
            TimeSpan.FromSeconds(15), "a long task runs");
        var victim = _nodes.Single(n => n.Name == running.First(t => longOnes.Contains(t.Id)).Node);
        await victim.KillAsync();

        var survivors = _nodes.First(n => n != victim).Http;
        var tasks = await EventuallyAsync(() => ListAsync(survivors), all => all.Count(t => t.State == "succeeded") == ids.Count,
            TimeSpan.FromSeconds(60), "every accepted task succeeded");

        Assert.Equal(ids.Order(), tasks.Select(t => t.Id).Order());
        var rescued = tasks.Where(t => t.Attempt == 2).ToList();
        Assert.Contains(rescued, t => longOnes.Contains(t.Id));
        Assert.All(rescued, t => Assert.NotEqual(victim.Name, t.Node));
        Assert.All(running.Where(t => t.Node == victim.Name && longOnes.Contains(t.Id)), t => Assert.Contains(t.Id, rescued.Select(r => r.Id)));
    }

    [GeneratedRegex(@"Demo task (\d+) attempt (\d+) payload")]
    private static partial Regex DemoRun();
}
