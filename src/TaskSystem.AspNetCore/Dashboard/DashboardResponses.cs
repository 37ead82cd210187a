namespace TaskSystem.AspNetCore.Dashboard;

/// <summary>
/// The cheap figures the watcher reads every tick, and the <c>stats</c> event: counts per state, the total and the
/// newest task id. Any change in them means the page's lists may be out of date.
/// </summary>
internal sealed record StatsResponse(DateTimeOffset Time, long NewestId, long Total, IReadOnlyDictionary<string, long> Counts)
{
    /// <summary>True when the figures (not the time they were read) are the same.</summary>
    public bool SameFiguresAs(StatsResponse? other) =>
        other is not null && other.NewestId == NewestId && other.Total == Total && other.Counts.Count == Counts.Count
        && Counts.All(pair => other.Counts.TryGetValue(pair.Key, out var count) && count == pair.Value);
}

/// <summary>The overview page and the <c>overview</c> event: counts per state and queue, nodes, throughput.</summary>
internal sealed record OverviewResponse(
    DateTimeOffset Time,
    string Node,
    long NewestId,
    long Total,
    IReadOnlyDictionary<string, long> Counts,
    IReadOnlyList<QueueResponse> Queues,
    IReadOnlyList<NodeResponse> Nodes,
    ThroughputResponse Throughput);

/// <summary>One queue's tasks per state (every state present, zero included).</summary>
internal sealed record QueueResponse(string Queue, long Total, IReadOnlyDictionary<string, long> Counts)
{
    /// <summary>Paused on every node (a paused queue is listed even with no tasks).</summary>
    public bool Paused { get; init; }
}

/// <summary>
/// A node that sent a heartbeat: <c>busy</c> counts the tasks it runs now, <c>workers</c> its concurrency;
/// <c>alive</c> is false once its lease has run out without a heartbeat.
/// </summary>
internal sealed record NodeResponse(string Name, int Busy, int Workers, DateTimeOffset StartedAt, DateTimeOffset HeartbeatAt, bool Alive, bool Current);

/// <summary>Tasks that reached a final state, per bucket, oldest bucket first, every bucket present.</summary>
internal sealed record ThroughputResponse(int BucketSeconds, DateTimeOffset Since, IReadOnlyList<ThroughputBucket> Buckets);

/// <summary>How many tasks finished in each final state in one bucket starting at <c>start</c>.</summary>
internal sealed record ThroughputBucket(DateTimeOffset Start, long Succeeded, long Failed, long Cancelled);

/// <summary>
/// What the enqueue form needs: the registered task types, the defaults a blank field gets, and the types external
/// workers run (TaskSystem:ExternalTypes, <c>*</c> for any type no handler runs).
/// </summary>
internal sealed record HandlersResponse(IReadOnlyList<string> Types, string DefaultQueue, int DefaultMaxAttempts, double DefaultTimeoutSeconds, IReadOnlyList<string> ExternalTypes);

/// <summary>The <c>progress</c> event: the progress of running tasks (those that reported any), sent when it changed.</summary>
internal sealed record ProgressResponse(DateTimeOffset Time, IReadOnlyList<TaskProgressEvent> Tasks)
{
    /// <summary>True when the reports (not the time they were read) are the same.</summary>
    public bool SameAs(ProgressResponse? other) => other is not null && other.Tasks.SequenceEqual(Tasks);
}

/// <summary>One running task's progress in the <c>progress</c> event.</summary>
internal sealed record TaskProgressEvent(long Id, double Percent, string? Message, DateTimeOffset At, int Attempt);
