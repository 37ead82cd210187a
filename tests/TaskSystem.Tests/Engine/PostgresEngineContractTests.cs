using Microsoft.Extensions.Logging.Abstractions;
using TaskSystem.PostgreSql;
using TaskSystem.Storage;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Engine;

/// <summary>The engine contract on a PostgreSQL database of its own.</summary>
public sealed class PostgresEngineContractTests : EngineContractTests
{
    private string _connectionString = null!;

    public override async Task InitializeAsync() => _connectionString = await PostgresDatabases.CreateAsync();

    protected override Task<EngineHost> StartHostAsync(Action<TaskSystemBuilder> handlers, Action<TaskSystemOptions>? configure = null, TimeProvider? time = null) =>
        PostgresEngineHosts.StartAsync(_connectionString, "test-node", handlers, configure, time);

    private protected override ITaskStore OpenStore() =>
        new PostgresTaskStore(_connectionString, 4, "test-node", TimeProvider.System, NullLogger<PostgresTaskStore>.Instance);
}
