namespace TaskSystem.Tests.Support;

/// <summary>Engine hosts on a PostgreSQL database: several may share one, as the nodes of a cluster do.</summary>
public static class PostgresEngineHosts
{
    public static Task<EngineHost> StartAsync(
        string connectionString,
        string node,
        Action<TaskSystemBuilder> handlers,
        Action<TaskSystemOptions>? configure = null,
        TimeProvider? time = null) =>
        EngineHost.StartAsync(
            b => handlers(b.UsePostgreSql()),
            o =>
            {
                o.Provider = "postgres";
                o.ConnectionString = connectionString;
                o.MaxPoolSize = 8;
                configure?.Invoke(o);
                o.NodeName = node;
            },
            time);
}
