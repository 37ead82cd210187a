using System.Collections.Concurrent;
using TaskSystem.Configuration;

namespace TaskSystem.Engine;

/// <summary>
/// Which queues this node serves and how many of each may run here at once (<c>TaskSystem:Queues</c>). The dispatcher
/// claims a limited queue on its own, never more than its free room, and the other queues together; every claim
/// stays one atomic statement. Counts are this node's, kept as attempts start and free their worker.
/// </summary>
internal sealed class QueueLimits
{
    /// <summary>The name that stands for every queue not named otherwise.</summary>
    public const string Others = "*";

    private readonly Dictionary<string, int> _limits;
    private readonly ConcurrentDictionary<string, int> _busy = new(StringComparer.Ordinal);

    public QueueLimits(TaskSystemOptions options)
    {
        var named = (options.Queues ?? []).Where(q => q.Value is not null).ToDictionary(q => q.Key, q => q.Value, StringComparer.Ordinal);
        var served = named.Where(q => q.Key != Others && q.Value.Serve).ToList();
        _limits = served.Where(q => q.Value.Concurrency is not null).ToDictionary(q => q.Key, q => q.Value.Concurrency!.Value, StringComparer.Ordinal);
        ServesAll = served.Count == 0 || (named.TryGetValue(Others, out var others) && others.Serve);
        Unlimited = [.. served.Where(q => q.Value.Concurrency is null).Select(q => q.Key).Order(StringComparer.Ordinal)];
        Limited = [.. _limits.Keys.Order(StringComparer.Ordinal)];
        NotServed = [.. named.Where(q => q.Key != Others && !q.Value.Serve).Select(q => q.Key).Order(StringComparer.Ordinal)];
    }

    /// <summary>
    /// True when the node serves every queue not named otherwise: no queue named to be served, or <c>*</c> named.
    /// </summary>
    public bool ServesAll { get; }

    /// <summary>Queues named with <c>Serve = false</c>: left to other nodes.</summary>
    public IReadOnlyList<string> NotServed { get; }

    /// <summary>What a claim of "every other queue" leaves out: the limited queues (claimed on their own) and those not served.</summary>
    public IReadOnlyList<string> ExcludedFromOthers => [.. Limited, .. NotServed];

    /// <summary>Queues named without a limit of their own (served within the node's total only).</summary>
    public IReadOnlyList<string> Unlimited { get; }

    /// <summary>Queues with a limit of their own on this node.</summary>
    public IReadOnlyList<string> Limited { get; }

    /// <summary>True when the node claims all queues in one statement, as it did before queues could be limited.</summary>
    public bool IsPlain => ServesAll && Limited.Count == 0 && NotServed.Count == 0;

    /// <summary>This node's limit for <paramref name="queue"/>, or null.</summary>
    public int? LimitOf(string queue) => _limits.TryGetValue(queue, out var limit) ? limit : null;

    /// <summary>Whether this node runs tasks of <paramref name="queue"/>.</summary>
    public bool Serves(string queue) =>
        !NotServed.Contains(queue, StringComparer.Ordinal) && (ServesAll || _limits.ContainsKey(queue) || Unlimited.Contains(queue, StringComparer.Ordinal));

    /// <summary>How many more of <paramref name="queue"/> may start here now (a limited queue).</summary>
    public int FreeIn(string queue) => Math.Max(0, _limits[queue] - Busy(queue));

    /// <summary>Tasks of <paramref name="queue"/> running here now.</summary>
    public int Busy(string queue) => _busy.TryGetValue(queue, out var busy) ? busy : 0;

    /// <summary>An attempt of <paramref name="queue"/> took a worker.</summary>
    public void Took(string queue)
    {
        if (_limits.ContainsKey(queue))
        {
            _busy.AddOrUpdate(queue, 1, static (_, busy) => busy + 1);
        }
    }

    /// <summary>An attempt of <paramref name="queue"/> freed its worker.</summary>
    public void Released(string queue)
    {
        if (_limits.ContainsKey(queue))
        {
            _busy.AddOrUpdate(queue, 0, static (_, busy) => busy - 1);
        }
    }

    /// <summary>Checks <c>TaskSystem:Queues</c> at start.</summary>
    public static void Validate(TaskSystemOptions options, List<string> errors)
    {
        foreach (var (queue, settings) in options.Queues ?? [])
        {
            if (queue == Others)
            {
                if (settings?.Concurrency is not null)
                {
                    errors.Add("TaskSystem:Queues:*:Concurrency: '*' stands for every other queue and takes no limit; name a queue to limit it.");
                }

                continue;
            }

            if (TaskRules.CheckQueue(queue) is { } error)
            {
                errors.Add($"TaskSystem:Queues:{queue}: {error}");
            }

            if (settings?.Concurrency is { } limit && (limit < 1 || limit > 1024))
            {
                errors.Add($"TaskSystem:Queues:{queue}:Concurrency must be between 1 and 1024 (got {limit}); leave the queue out to not serve it.");
            }
        }
    }
}
