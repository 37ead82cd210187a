using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TaskSystem.Configuration;
using TaskSystem.PostgreSql;
using TaskSystem.Storage;

namespace TaskSystem;

/// <summary>Adds the PostgreSQL store to TaskSystem.</summary>
public static class PostgresTaskSystemBuilderExtensions
{
    /// <summary>The value of <c>TaskSystem:Provider</c> that selects PostgreSQL.</summary>
    public const string ProviderName = "postgres";

    /// <summary>
    /// Makes <c>TaskSystem:Provider=postgres</c> available, with an Npgsql connection string in
    /// <c>TaskSystem:ConnectionString</c>. Several nodes can then share one database: see docs/cluster.md.
    /// </summary>
    public static TaskSystemBuilder UsePostgreSql(this TaskSystemBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddStoreProvider(new StoreProvider(ProviderName, static (services, options) => new PostgresTaskStore(
            options.ConnectionString ?? throw new InvalidOperationException("TaskSystem:ConnectionString is required for the postgres provider."),
            options.MaxPoolSize,
            options.NodeName,
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<ILogger<PostgresTaskStore>>())
        {
            WriteHealth = services.GetRequiredService<WriteHealth>(),
        }));
    }
}
