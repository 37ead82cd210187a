using System.Net;
using System.Text.RegularExpressions;
using TaskSystem.Cluster.Tests.Support;
using TaskSystem.TestSupport;
using static TaskSystem.Cluster.Tests.Support.TaskApi;

namespace TaskSystem.Cluster.Tests;

/// <summary>Three real server processes over one PostgreSQL database behave as one node.</summary>
public sealed partial class ClusterTests(ClusterTests.Nodes cluster) : IClassFixture<ClusterTests.Nodes>
{
    /// <summary>Short leases so that a killed node's tasks come back within seconds.</summary>
    internal static readonly string[] FastLeases =
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

    private readonly IReadOnlyList<ServerProcess> _nodes = cluster.Nodes;

    /// <summary>The three nodes both tests of the class share: neither kills one (<see cref="NodeFailoverTests"/> does, on nodes of its own).</summary>
    public sealed class Nodes() : ClusterNodes(("node1", FastLeases), ("node2", FastLeases), ("node3", FastLeases));

    [Fact]
    public async Task TasksSentToAnyNode_SpreadOverAllThree_AndEachRunsExactlyOnce()
    {
        var ids = new List<long>();
        for (var i = 0; i < 60; i++)
        {
            ids.Add(await EnqueueDemoAsync(_nodes[i % 3].Http, durationMs: 150));
        }

        var tasks = await EventuallyAsync(async () => (await ListAsync(_nodes[0].Http)).Where(t => ids.Contains(t.Id)).ToList(), mine => mine.Count(t => t.State == "succeeded") == ids.Count,
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

    [GeneratedRegex(@"Demo task (\d+) attempt (\d+) payload")]
    private static partial Regex DemoRun();
}
