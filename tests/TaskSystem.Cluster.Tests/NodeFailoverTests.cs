using TaskSystem.Cluster.Tests.Support;
using TaskSystem.TestSupport;
using static TaskSystem.Cluster.Tests.Support.TaskApi;

namespace TaskSystem.Cluster.Tests;

/// <summary>Three real server processes over one PostgreSQL database: one killed mid-run, the others finish its work.</summary>
public sealed class NodeFailoverTests(NodeFailoverTests.Nodes cluster) : IClassFixture<NodeFailoverTests.Nodes>
{
    private readonly IReadOnlyList<ServerProcess> _nodes = cluster.Nodes;

    /// <summary>Nodes of this test's own: it kills one.</summary>
    public sealed class Nodes() : ClusterNodes(("node1", ClusterTests.FastLeases), ("node2", ClusterTests.FastLeases), ("node3", ClusterTests.FastLeases));

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
}
