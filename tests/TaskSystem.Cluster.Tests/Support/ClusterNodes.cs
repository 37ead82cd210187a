namespace TaskSystem.Cluster.Tests.Support;

/// <summary>
/// Server nodes over one new database of the shared PostgreSQL, started once for all the tests of a class (a class
/// fixture: a node costs a few CPU-seconds to start, and the suite is CPU-bound). The tests of such a class must leave
/// nothing behind that another could take: each finishes or stops what it enqueued, and looks only at its own tasks.
/// </summary>
public abstract class ClusterNodes(params (string Name, string[] Settings)[] nodes) : IAsyncLifetime
{
    private readonly List<ServerProcess> _nodes = [];

    /// <summary>The nodes, in the order given.</summary>
    public IReadOnlyList<ServerProcess> Nodes => _nodes;

    public async Task InitializeAsync()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync();
        _nodes.AddRange(await Task.WhenAll(nodes.Select(node => ServerNodeProcess.StartAsync(node.Name, database, node.Settings))));
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }
}
