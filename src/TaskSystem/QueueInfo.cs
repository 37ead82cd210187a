namespace TaskSystem;

/// <summary>A queue: its tasks per state, whether it is paused (on every node), and how this node serves it.</summary>
/// <param name="Name">The queue's name.</param>
/// <param name="Paused">Paused: no node starts its tasks until it is resumed; running ones finish.</param>
/// <param name="PausedAt">When it was paused, or null.</param>
/// <param name="Counts">Its tasks per state (states with none left out).</param>
/// <param name="Served">Whether this node runs its tasks (<c>TaskSystem:Queues</c>, and a <c>Concurrency</c> above 0).</param>
/// <param name="Concurrency">This node's limit for it (<c>TaskSystem:Queues:{name}:Concurrency</c>), or null when it has none of its own.</param>
public sealed record QueueInfo(string Name, bool Paused, DateTimeOffset? PausedAt, IReadOnlyDictionary<TaskState, long> Counts, bool Served, int? Concurrency);
