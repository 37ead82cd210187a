using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using TaskSystem.PostgreSql;
using TaskSystem.Storage;
using TaskSystem.Storage.Sqlite;

namespace TaskSystem.Benchmarks.Support;

/// <summary>
/// The store alone, with no engine: no-op tasks inserted in batches of a thousand, then drained by one loop that
/// claims a round of tasks and writes their outcomes in one call, until none is left. What the engine adds on top
/// (dispatching, handlers, signals, overlapping the next claim with the last outcomes) is the gap between its drain
/// and this one at the same round size; a round of a thousand is the store's own ceiling.
/// </summary>
internal static class RawStoreDrain
{
    private static readonly string[] Types = ["noop"];

    public static Task<double> SqliteAsync(string folder, int count, int round) =>
        DrainAsync(new SqliteTaskStore($"Data Source={Path.Combine(folder, "tasks.db")}", NullLogger<SqliteTaskStore>.Instance), count, round);

    public static Task<double> PostgresAsync(string connectionString, int count, int round) =>
        DrainAsync(new PostgresTaskStore(connectionString, 4, "raw", TimeProvider.System, NullLogger<PostgresTaskStore>.Instance), count, round);

    /// <summary>Tasks per second of the drain.</summary>
    private static async Task<double> DrainAsync(ITaskStore store, int count, int round)
    {
        await using (store)
        {
            await store.MigrateAsync(CancellationToken.None);
            var now = DateTimeOffset.UtcNow;
            for (var inserted = 0; inserted < count; inserted += 1000)
            {
                var batch = Enumerable.Range(0, Math.Min(1000, count - inserted))
                    .Select(_ => new NewTask("noop", "default", 0, "{}", 3, TimeSpan.FromMinutes(5), now, now))
                    .ToList();
                await store.TasksInsertAsync(new TasksInsertParams(batch), CancellationToken.None);
            }

            var started = Stopwatch.GetTimestamp();
            var done = 0;
            for (long claim = 1; done < count; claim++)
            {
                var at = DateTimeOffset.UtcNow;
                var claimed = await store.TasksClaimAsync(new TasksClaimParams("raw", claim, round, Types, at, at.AddMinutes(5)), CancellationToken.None);
                if (claimed.Count == 0)
                {
                    throw new InvalidOperationException($"The store had no task left to claim after {done} of {count}.");
                }

                var finished = DateTimeOffset.UtcNow;
                await store.TasksCompleteAsync(
                    new TasksCompleteParams([.. claimed.Select(t => new TaskCompletion(t.Id, "raw", claim, CompletionKind.Succeeded, finished))]),
                    CancellationToken.None);
                done += claimed.Count;
            }

            return count / Stopwatch.GetElapsedTime(started).TotalSeconds;
        }
    }
}
