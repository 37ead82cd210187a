using System.Diagnostics;

namespace TaskSystem.Benchmarks.Support;

/// <summary>Concurrent callers, each repeating one call until the time is up.</summary>
internal static class Callers
{
    /// <summary>Returns how many calls completed.</summary>
    public static async Task<long> RepeatAsync(TimeSpan duration, int callers, Func<Task> call)
    {
        long done = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            while (clock.Elapsed < duration)
            {
                await call();
                Interlocked.Increment(ref done);
            }
        })));
        return done;
    }
}
