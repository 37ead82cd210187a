using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TaskSystem.Storage;
using TaskSystem.Storage.Sqlite;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Engine;

/// <summary>Start, shutdown and recovery after a crash.</summary>
public sealed class LifecycleTests
{
    [Fact]
    public async Task Shutdown_LetsQuickTasksFinish_AndPutsTheRestBackWithoutCountingTheAttempt()
    {
        var started = new CountdownEvent(2);
        var host = await EngineHost.StartAsync(
            b => b.AddHandler("quick", async (_, ct) => { started.Signal(); await Task.Delay(300, ct); })
                  .AddHandler("slow", async (_, ct) => { started.Signal(); await Task.Delay(Timeout.Infinite, ct); }),
            o => { o.ShutdownTimeout = TimeSpan.FromSeconds(1); o.StopGracePeriod = TimeSpan.FromSeconds(1); });
        await using (host)
        {
            var quick = await host.EnqueueAsync("quick");
            var slow = await host.EnqueueAsync("slow");
            await Eventually.Until(() => started.CurrentCount == 0);

            await host.StopAsync();

            var store = host.Store;
            Assert.Equal(TaskState.Succeeded, (await store.TaskGetAsync(quick.Id, CancellationToken.None))!.State);
            var released = (await store.TaskGetAsync(slow.Id, CancellationToken.None))!;
            Assert.Equal((TaskState.Queued, 0), (released.State, released.Attempt));
        }
    }

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
        await Eventually.Until(() => !stopping.IsCompleted);
        gate.Release.TrySetResult();
        await stopping.WaitAsync(TimeSpan.FromSeconds(20));

        var after = (await host.Services.GetRequiredService<ITaskStore>().TaskGetAsync(task.Id, CancellationToken.None))!;
        Assert.Equal(1, runs);
        Assert.Equal(TaskState.Succeeded, after.State);
    }

    [Fact]
    public async Task Restart_AfterACrash_RerunsTheTasksLeftRunning_CountingTheAttempt()
    {
        using var directory = new TempDirectory();
        long id;
        await using (var crashed = new SqliteTaskStore(directory.SqliteConnectionString, NullLogger<SqliteTaskStore>.Instance))
        {
            var now = DateTimeOffset.UtcNow;
            id = (await crashed.TasksInsertAsync(new TasksInsertParams([new NewTask("t", "default", 0, "{}", 3, TimeSpan.FromMinutes(1), now, now)]), CancellationToken.None))[0].Id;
            await crashed.TasksClaimAsync(new TasksClaimParams("old-container", 1, 10, ["t"], now, now.AddSeconds(30)), CancellationToken.None);

            // Disposed without an outcome: as if the process had been killed mid-run.
        }

        var attempts = new List<int>();
        await using var host = await EngineHost.StartAsync(b => b.AddHandler("t", (ctx, _) => { lock (attempts) { attempts.Add(ctx.Attempt); } return Task.CompletedTask; }), directory: directory);

        var done = await host.WaitForStateAsync(id, TaskState.Succeeded);
        Assert.Equal(2, done.Attempt);
        Assert.Equal([2], attempts);
        Assert.Contains("old-container", Assert.Single(done.Errors).Error, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidSettings_FailTheStart_WithMessagesThatNameThem()
    {
        var error = Assert.Throws<OptionsValidationException>(() => EngineHost.Create(b => b.AddHandler("t", (_, _) => Task.CompletedTask), o =>
        {
            o.Concurrency = 0;
            o.HeartbeatInterval = TimeSpan.FromMinutes(1);
        }));

        Assert.Contains(error.Failures, f => f.Contains("TaskSystem:Concurrency must be between 1 and 1024 (got 0)", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("TaskSystem:HeartbeatInterval", StringComparison.Ordinal));
    }
}
