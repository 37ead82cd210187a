using TaskSystem.Benchmarks.Subjects;
using TaskSystem.Benchmarks.Support;

namespace TaskSystem.Benchmarks.Workloads;

/// <summary>The PostgreSQL side of the workloads.</summary>
internal static class PostgresBench
{
    /// <summary>Enqueues <paramref name="count"/> no-op tasks, then starts a node on PostgreSQL and times their drain.</summary>
    public static async Task<double> TaskSystemDrainAsync(PostgresServer postgres, int count, int workers)
    {
        _ = postgres;
        await using var node = TaskSystemNode.Postgres(PostgresServer.NewDatabase(), workers, "bench", b => b.UsePostgreSql());
        await node.EnqueueNoopsAsync(count);
        return await node.StartAndDrainAsync(count);
    }
}
