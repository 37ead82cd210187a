using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.ExternalWorkers;

/// <summary>The external worker protocol on a SQLite file of its own.</summary>
public sealed class SqliteExternalWorkerContractTests : ExternalWorkerContractTests
{
    private readonly TempDirectory _directory = new();

    protected override Task<EngineHost> StartHostAsync(Action<TaskSystemBuilder> handlers, Action<TaskSystemOptions>? configure = null, TimeProvider? time = null) =>
        EngineHost.StartAsync(handlers, configure, time, _directory);

    public override Task DisposeAsync()
    {
        _directory.Dispose();
        return Task.CompletedTask;
    }
}
