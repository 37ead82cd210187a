namespace TaskSystem;

/// <summary>A node that sent a heartbeat.</summary>
/// <param name="Name">The node's name (<see cref="TaskSystemOptions.NodeName"/>).</param>
/// <param name="StartedAt">When it started.</param>
/// <param name="HeartbeatAt">Its latest heartbeat; a node whose heartbeat is older than the lease is gone.</param>
/// <param name="Concurrency">Its workers.</param>
/// <param name="Busy">Workers busy at its latest heartbeat.</param>
public sealed record NodeInfo(string Name, DateTimeOffset StartedAt, DateTimeOffset HeartbeatAt, int Concurrency, int Busy);

/// <summary>How many tasks one queue has in one state.</summary>
/// <param name="Queue">The queue.</param>
/// <param name="State">The state.</param>
/// <param name="Count">How many tasks.</param>
public sealed record QueueCount(string Queue, TaskState State, long Count);

/// <summary>How many tasks reached one final state within one bucket of time.</summary>
/// <param name="Start">When the bucket starts (a multiple of its width since the Unix epoch).</param>
/// <param name="State">The final state.</param>
/// <param name="Count">How many tasks.</param>
public sealed record FinishedCount(DateTimeOffset Start, TaskState State, long Count);
