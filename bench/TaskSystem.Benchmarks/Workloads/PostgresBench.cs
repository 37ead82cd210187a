using TaskSystem.Benchmarks.Support;

namespace TaskSystem.Benchmarks.Workloads;

/// <summary>The PostgreSQL side of the workloads, wired in with the PostgreSQL store.</summary>
internal static class PostgresBench
{
    public static Task<double> TaskSystemDrainAsync(PostgresServer postgres, int count, int workers) =>
        throw new NotSupportedException($"The PostgreSQL store is not built into this benchmark yet ({postgres}, {count}, {workers}).");
}
