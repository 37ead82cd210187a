using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TaskSystem.Storage;
using TaskSystem.Storage.Sqlite;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Engine;

/// <summary>Start and shutdown on SQLite; the shutdown and recovery rules every store shares are in <see cref="EngineContractTests"/>.</summary>
public sealed class LifecycleTests
{
    [Fact]
    public async Task Shutdown_WithAClaimInFlight_StillPutsItsTaskBackOrFinishesIt()
    {
        using var directory = new TempDirectory();
        var runs = 0;
        ClaimGate? gate = null;
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services
            .AddTaskSystem(o => { o.ConnectionString = directory.SqliteConnectionString; o.NodeName = "test-node"; o.ShutdownTimeout = TimeSpan.FromSeconds(5); })
            .AddHandler("t", async (_, ct) => { Interlocked.Increment(ref runs); await Task.Delay(200, ct); });
        builder.Services.AddSingleton<ITaskStore>(_ =>
        {
            var wrapped = ClaimGate.Wrap(new SqliteTaskStore(directory.SqliteConnectionString, NullLogger<SqliteTaskStore>.Instance));
            gate = wrapped.Gate;
            return wrapped.Store;
        });
        using var host = builder.Build();
        await host.StartAsync();
        var manager = host.Services.GetRequiredService<TaskManager>();
        gate!.Hold = true;

        var task = await manager.EnqueueAsync(new TaskRequest("t"));
        await gate.Claimed.Task.WaitAsync(TimeSpan.FromSeconds(5));
        var stopping = host.StopAsync();
        await Eventually.Until(() => host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested, because: "the shutdown to begin");
        Assert.False(stopping.IsCompleted, "the shutdown waits for the claim in flight");
        gate.Release.TrySetResult();
        await stopping.WaitAsync(TimeSpan.FromSeconds(20));

        var after = (await host.Services.GetRequiredService<ITaskStore>().TaskGetAsync(task.Id, CancellationToken.None))!;
        Assert.Equal(1, runs);
        Assert.Equal(TaskState.Succeeded, after.State);
    }

    [Fact]
    public void InvalidSettings_FailTheStart_WithMessagesThatNameThem()
    {
        var error = Assert.Throws<OptionsValidationException>(() => EngineHost.Create(b => b.AddHandler("t", (_, _) => Task.CompletedTask), o =>
        {
            o.Concurrency = -1;
            o.HeartbeatInterval = TimeSpan.FromMinutes(1);
        }));

        Assert.Contains(error.Failures, f => f.Contains("TaskSystem:Concurrency must be between 0 and 1024 (got -1)", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("TaskSystem:HeartbeatInterval", StringComparison.Ordinal));
    }
}
