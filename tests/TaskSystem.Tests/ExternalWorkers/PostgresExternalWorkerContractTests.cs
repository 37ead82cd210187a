using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.ExternalWorkers;

/// <summary>The external worker protocol on a PostgreSQL database of its own.</summary>
public sealed class PostgresExternalWorkerContractTests : ExternalWorkerContractTests
{
    private string _connectionString = null!;

    public override async Task InitializeAsync() => _connectionString = await PostgresDatabases.CreateAsync();

    protected override Task<EngineHost> StartHostAsync(Action<TaskSystemBuilder> handlers, Action<TaskSystemOptions>? configure = null, TimeProvider? time = null) =>
        PostgresEngineHosts.StartAsync(_connectionString, "test-node", handlers, configure, time);
}
