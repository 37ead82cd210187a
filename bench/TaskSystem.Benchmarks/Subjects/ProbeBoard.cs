using System.Collections.Concurrent;
using System.Diagnostics;

namespace TaskSystem.Benchmarks.Subjects;

/// <summary>Where handlers report when they started and when they saw a cancellation, with a monotonic timestamp.</summary>
public sealed class ProbeBoard
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<long>> _started = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<long>> _cancelled = new();

    public void Started(object id) => Get(_started, id).TrySetResult(Stopwatch.GetTimestamp());

    public void Cancelled(object id) => Get(_cancelled, id).TrySetResult(Stopwatch.GetTimestamp());

    public Task<long> WhenStarted(object id) => Get(_started, id).Task;

    public Task<long> WhenCancelled(object id) => Get(_cancelled, id).Task;

    private static TaskCompletionSource<long> Get(ConcurrentDictionary<string, TaskCompletionSource<long>> map, object id) =>
        map.GetOrAdd(id.ToString()!, _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously));
}
