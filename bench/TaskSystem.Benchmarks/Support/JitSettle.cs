using System.Diagnostics;
using System.Runtime;

namespace TaskSystem.Benchmarks.Support;

/// <summary>
/// Waits for the runtime's background compiler to go quiet after a warm-up. Tiered compilation recompiles hot methods
/// (with profile-guided optimisation) on a background thread for a while after they first run, and that CPU is this
/// process's: a drain measured while it goes on is charged for it. Measured: the first 5-worker SQLite drain after a
/// 20-worker warm-up used 72-89 µs of CPU per task, the same drain run again 55-57 µs.
/// </summary>
internal static class JitSettle
{
    /// <summary>Returns once no method was compiled for <paramref name="quiet"/>, or after <paramref name="deadline"/>.</summary>
    public static async Task<int> WaitAsync(TimeSpan quiet, TimeSpan deadline)
    {
        var clock = Stopwatch.StartNew();
        var start = JitInfo.GetCompiledMethodCount();
        var last = start;
        var lastChange = clock.Elapsed;
        while (clock.Elapsed < deadline && clock.Elapsed - lastChange < quiet)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100));
            var now = JitInfo.GetCompiledMethodCount();
            if (now != last)
            {
                last = now;
                lastChange = clock.Elapsed;
            }
        }

        return (int)(last - start);
    }
}
