using Microsoft.Extensions.Logging.Abstractions;
using TaskSystem.Storage;
using TaskSystem.Storage.Sqlite;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Engine;

/// <summary>The engine contract on a SQLite file of its own.</summary>
public sealed class SqliteEngineContractTests : EngineContractTests
{
    private readonly TempDirectory _directory = new();

    protected override Task<EngineHost> StartHostAsync(Action<TaskSystemBuilder> handlers, Action<TaskSystemOptions>? configure = null, TimeProvider? time = null) =>
        EngineHost.StartAsync(handlers, configure, time, _directory);

    private protected override ITaskStore OpenStore() => new SqliteTaskStore(_directory.SqliteConnectionString, NullLogger<SqliteTaskStore>.Instance);

    public override Task DisposeAsync()
    {
        _directory.Dispose();
        return Task.CompletedTask;
    }
}
