using Microsoft.Extensions.Options;
using TaskSystem.Storage;

namespace TaskSystem.AspNetCore.Dashboard;

/// <summary>
/// What the dashboard reads from the store, all through <see cref="TaskManager"/>. <see cref="ReadStatsAsync"/> is
/// the watcher's per-tick read and must stay cheap: two indexed queries. <see cref="ReadOverviewAsync"/> costs more
/// (a scan per queue, the last hour of finished tasks) and runs only on demand or when something changed.
/// <see cref="ReadProgressAsync"/> reads the running tasks' progress straight from the store (its cost follows the
/// running tasks), while some run.
/// </summary>
internal sealed class DashboardQueries(TaskManager manager, ITaskStore store, IOptions<TaskSystemOptions> options, TimeProvider time)
{
    /// <summary>The progress event carries at most this many running tasks (the lowest ids).</summary>
    public const int ProgressLimit = 500;

    /// <summary>The progress of running tasks, as their current attempt last reported it.</summary>
    public async Task<ProgressResponse> ReadProgressAsync(CancellationToken cancellationToken)
    {
        var found = await store.TasksProgressRunningAsync(new TasksProgressRunningParams(ProgressLimit), cancellationToken);
        return new ProgressResponse(time.GetUtcNow(), [.. found.Select(p => new TaskProgressEvent(p.Id, p.Percent, p.Message, p.At, p.Attempt))]);
    }

    /// <summary>The throughput chart: one-minute buckets over the last hour.</summary>
    public static readonly TimeSpan ThroughputBucket = TimeSpan.FromMinutes(1);

    public const int ThroughputBuckets = 60;

    /// <summary>Busy workers are counted from the running tasks, up to this many; past it, from the nodes' heartbeats.</summary>
    private const int RunningScanLimit = 1000;

    /// <summary>Counts per state and the newest id: the figures whose change means the lists moved.</summary>
    public async Task<StatsResponse> ReadStatsAsync(CancellationToken cancellationToken)
    {
        var counts = await manager.CountByStateAsync(cancellationToken);
        var newest = await manager.ListAsync(new TaskListQuery(Limit: 1), cancellationToken);
        var wire = ToWire(counts);
        return new StatsResponse(time.GetUtcNow(), newest.Tasks.Count == 0 ? 0 : newest.Tasks[0].Id, wire.Values.Sum(), wire);
    }

    public async Task<OverviewResponse> ReadOverviewAsync(StatsResponse? stats, CancellationToken cancellationToken)
    {
        stats ??= await ReadStatsAsync(cancellationToken);
        var queues = await manager.CountByQueueAsync(cancellationToken);
        var paused = (await store.QueuesPausedAsync(cancellationToken)).Select(p => p.Queue).ToHashSet(StringComparer.Ordinal);
        var nodes = await ReadNodesAsync(cancellationToken);
        var throughput = await ReadThroughputAsync(cancellationToken);
        return new OverviewResponse(
            time.GetUtcNow(),
            manager.NodeName,
            stats.NewestId,
            stats.Total,
            stats.Counts,
            [.. queues.GroupBy(q => q.Queue, StringComparer.Ordinal).Select(group =>
            {
                var counts = ToWire(group.ToDictionary(q => q.State, q => q.Count));
                return new QueueResponse(group.Key, counts.Values.Sum(), counts) { Paused = paused.Contains(group.Key) };
            }).Concat(paused.Where(p => !queues.Any(q => q.Queue == p)).Order(StringComparer.Ordinal)
                .Select(p => new QueueResponse(p, 0, ToWire(new Dictionary<TaskState, long>())) { Paused = true }))],
            nodes,
            throughput);
    }

    public HandlersResponse ReadHandlers() => new(
        manager.TaskTypes, options.Value.DefaultQueue, options.Value.DefaultMaxAttempts, options.Value.DefaultTimeout.TotalSeconds, manager.ExternalTypes);

    private async Task<IReadOnlyList<NodeResponse>> ReadNodesAsync(CancellationToken cancellationToken)
    {
        var nodes = await manager.NodesAsync(cancellationToken);
        var running = await manager.ListAsync(new TaskListQuery([TaskState.Running], Limit: RunningScanLimit), cancellationToken);

        // Heartbeats are seconds apart; the running tasks say who is busy now (unless there are too many to read).
        var busy = running.NextCursor is null
            ? running.Tasks.Where(t => t.Node is not null).GroupBy(t => t.Node!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal)
            : null;
        var now = time.GetUtcNow();
        var lease = options.Value.LeaseDuration;
        return [.. nodes.Select(node => new NodeResponse(
            node.Name,
            busy is null ? node.Busy : busy.GetValueOrDefault(node.Name),
            node.Concurrency,
            node.StartedAt,
            node.HeartbeatAt,
            node.HeartbeatAt + lease > now,
            string.Equals(node.Name, manager.NodeName, StringComparison.Ordinal)))];
    }

    private async Task<ThroughputResponse> ReadThroughputAsync(CancellationToken cancellationToken)
    {
        var bucketMs = (long)ThroughputBucket.TotalMilliseconds;
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var since = DateTimeOffset.FromUnixTimeMilliseconds((now / bucketMs * bucketMs) - ((ThroughputBuckets - 1) * bucketMs));
        var histogram = await manager.FinishedHistogramAsync(since, ThroughputBucket, cancellationToken);
        var byStart = histogram.ToLookup(b => b.Start);
        var buckets = new ThroughputBucket[ThroughputBuckets];
        for (var i = 0; i < buckets.Length; i++)
        {
            var start = since + (ThroughputBucket * i);
            var counts = byStart[start].ToDictionary(b => b.State, b => b.Count);
            buckets[i] = new ThroughputBucket(
                start, counts.GetValueOrDefault(TaskState.Succeeded), counts.GetValueOrDefault(TaskState.Failed), counts.GetValueOrDefault(TaskState.Cancelled));
        }

        return new ThroughputResponse((int)ThroughputBucket.TotalSeconds, since, buckets);
    }

    /// <summary>Every state by its wire name, in lifecycle order, zero included.</summary>
    private static Dictionary<string, long> ToWire(IReadOnlyDictionary<TaskState, long> counts)
    {
        var wire = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var state in TaskStates.All)
        {
            wire[state.ToWire()] = counts.GetValueOrDefault(state);
        }

        return wire;
    }
}
