namespace TaskSystem.Client;

/// <summary>The queues, as the node that answered sees them.</summary>
/// <param name="Node">The answering node's name.</param>
/// <param name="Concurrency">Its worker slots.</param>
/// <param name="Queues">Every queue that has tasks or is paused.</param>
public sealed record TaskSystemQueueList(string Node, int Concurrency, IReadOnlyList<TaskSystemQueueState> Queues);

/// <summary>One queue.</summary>
/// <param name="Name">Its name.</param>
/// <param name="Paused">Whether it is paused (cluster-wide).</param>
/// <param name="PausedAt">Since when, or null.</param>
/// <param name="Total">Its tasks.</param>
/// <param name="Counts">Its tasks per state.</param>
/// <param name="Served">Whether the answering node runs its tasks.</param>
/// <param name="Concurrency">The answering node's own limit for it, or null.</param>
public sealed record TaskSystemQueueState(
    string Name, bool Paused, DateTimeOffset? PausedAt, long Total, IReadOnlyDictionary<string, long> Counts, bool Served, int? Concurrency);

/// <summary>The answer to a pause or a resume.</summary>
/// <param name="Name">The queue.</param>
/// <param name="Paused">Its state now.</param>
/// <param name="Changed">Whether this request changed it.</param>
public sealed record TaskSystemQueuePause(string Name, bool Paused, bool Changed);
