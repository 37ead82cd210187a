using System.Diagnostics;
using System.Text.Json;
using TaskSystem.Benchmarks.Subjects;
using TaskSystem.Benchmarks.Support;

namespace TaskSystem.Benchmarks.Workloads;

/// <summary>
/// How busy the workers are kept: N workers draining tasks that each wait D ms (an async delay, as a task waiting on
/// I/O does). The ideal is N ÷ D tasks per second; measured ÷ ideal is the share of the workers' time spent running
/// tasks rather than waiting for the next one. The same N loops of bare delays, with no engine, show what the timer
/// alone allows (a 1 ms delay lasts a little longer than 1 ms), so the engine's own cost reads as engine ÷ bare loops.
/// </summary>
internal sealed class UtilisationWorkload : IWorkload
{
    /// <summary>The fewest tasks a ratio is computed from: quick mode's shortest case has fewer, and says so.</summary>
    private const int MinimumTasks = 1_000;

    private static readonly (int Workers, int DelayMs)[] Cases = [(5, 10), (5, 1), (100, 10), (1000, 100)];

    public string Name => "utilisation";

    public string Description => "worker utilisation: N workers, tasks of D ms, measured ÷ ideal (N ÷ D) on SQLite and PostgreSQL";

    public async Task RunAsync(BenchContext context)
    {
        var seconds = context.Options.Quick ? 0.2 : 4;
        var report = context.Report;
        foreach (var (workers, delayMs) in Cases)
        {
            var ideal = workers * 1000.0 / delayMs;
            var count = (int)Math.Max(workers * 2, ideal * seconds);
            var name = $"{workers} workers, {delayMs} ms tasks";
            var bare = report.Add("utilisation", $"bare delay loops (no engine), {name}", await BareLoopsAsync(workers, delayMs, count), "tasks/s");
            report.RatioIfEnough($"utilisation-timer-{workers}w-{delayMs}ms", bare / ideal, $"bare delay loops ÷ ideal ({ideal:N0}/s): what the timer allows, {name}", count, MinimumTasks);

            var sqlite = report.Add("utilisation", $"TaskSystem SQLite, {name}",
                await DrainAsync(TaskSystemNode.Sqlite(context.NewFolder(), workers), count, delayMs), "tasks/s");
            report.RatioIfEnough($"utilisation-sqlite-{workers}w-{delayMs}ms", sqlite / ideal, $"TaskSystem SQLite ÷ ideal ({ideal:N0}/s), {name}", count, MinimumTasks);
            report.RatioIfEnough($"utilisation-sqlite-{workers}w-{delayMs}ms-vs-bare", sqlite / bare, $"TaskSystem SQLite ÷ bare delay loops, {name}", count, MinimumTasks);

            if (await context.PostgresAsync() is not null)
            {
                var postgres = report.Add("utilisation", $"TaskSystem PostgreSQL, {name}",
                    await DrainAsync(TaskSystemNode.Postgres(PostgresServer.NewDatabase(), workers, "bench", b => b.UsePostgreSql()), count, delayMs), "tasks/s");
                report.RatioIfEnough($"utilisation-postgres-{workers}w-{delayMs}ms", postgres / ideal, $"TaskSystem PostgreSQL ÷ ideal ({ideal:N0}/s), {name}", count, MinimumTasks);
                report.RatioIfEnough($"utilisation-postgres-{workers}w-{delayMs}ms-vs-bare", postgres / bare, $"TaskSystem PostgreSQL ÷ bare delay loops, {name}", count, MinimumTasks);
            }
        }
    }

    /// <summary>Enqueues the tasks before the node starts, then times the drain from the start (the host's start excluded).</summary>
    private static async Task<double> DrainAsync(TaskSystemNode created, int count, int delayMs)
    {
        await using var node = created;
        var payload = JsonSerializer.SerializeToElement(new { ms = delayMs });
        for (var done = 0; done < count; done += 1000)
        {
            await node.Manager.EnqueueManyAsync(Enumerable.Range(0, Math.Min(1000, count - done)).Select(_ => new TaskRequest("delay") { Payload = payload }));
        }

        await node.StartAsync();
        var clock = Stopwatch.StartNew();
        await node.WaitDrainedAsync(count);
        return count / clock.Elapsed.TotalSeconds;
    }

    /// <summary><paramref name="workers"/> loops sharing <paramref name="count"/> delays of <paramref name="delayMs"/>: the timer's ceiling.</summary>
    private static async Task<double> BareLoopsAsync(int workers, int delayMs, int count)
    {
        var left = (long)count;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(async _ =>
        {
            while (Interlocked.Decrement(ref left) >= 0)
            {
                await Task.Delay(delayMs);
            }
        }));
        return count / clock.Elapsed.TotalSeconds;
    }
}
