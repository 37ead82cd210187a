namespace TaskSystem.Benchmarks.Support;

/// <summary>A throwaway PostgreSQL server for the PostgreSQL workloads (wired in with the PostgreSQL store).</summary>
internal sealed class PostgresServer : IAsyncDisposable
{
    public static bool Unavailable => true;

    public static string ConnectionString => "";

    public static Task<PostgresServer?> TryStartAsync() => Task.FromResult<PostgresServer?>(null);

    public static string NewDatabase() => ConnectionString;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
