namespace TaskSystem.Storage;

/// <summary>
/// How a task held by an external worker reads in the store: its <c>node</c> is <c>worker:</c> and the worker's name,
/// and its <c>claim_id</c> is the worker's lease token. So the one fence of every transition (state, node, claim)
/// guards external workers exactly as it guards nodes. No node may take a name with this prefix (checked at start),
/// so a node's heartbeat, stop poll or recovery never touches a task an external worker holds. (The stores' SQL
/// spells the prefix too: <c>worker:</c>.)
/// </summary>
internal static class ExternalHolder
{
    public const string Prefix = "worker:";

    /// <summary>The node column's value for tasks <paramref name="worker"/> holds.</summary>
    public static string For(string worker) => Prefix + worker;

    /// <summary>True when <paramref name="node"/> is an external worker rather than a node.</summary>
    public static bool IsExternal(string? node) => node is not null && node.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>The worker's own name, or null when a node holds the task.</summary>
    public static string? WorkerOf(string? node) => IsExternal(node) ? node![Prefix.Length..] : null;
}
