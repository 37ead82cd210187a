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
    /// Stores tasks in PostgreSQL, with the Npgsql connection string in <c>TaskSystem:ConnectionString</c>. It is the
    /// store unless <c>TaskSystem:Provider</c> names another (a host that offers both lets configuration choose).
    /// Several nodes can share one database: see docs/cluster.md.
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
        }, SelectedByDefault: true));
    }

    /// <summary>Stores tasks in PostgreSQL at <paramref name="connectionString"/> (an Npgsql connection string), whatever the configuration says.</summary>
    public static TaskSystemBuilder UsePostgreSql(this TaskSystemBuilder builder, string connectionString)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        builder.UsePostgreSql();
        builder.Services.PostConfigure<TaskSystemOptions>(options =>
        {
            options.Provider = ProviderName;
            options.ConnectionString = connectionString;
        });
        return builder;
    }
}
