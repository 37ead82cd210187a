using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TaskSystem.Storage;

namespace TaskSystem.Tests.Support;

/// <summary>A real generic host running TaskSystem on a SQLite file of its own, optionally on a fake clock.</summary>
public sealed class EngineHost : IAsyncDisposable
{
    private readonly TempDirectory? _ownedDirectory;

    private EngineHost(IHost host, TempDirectory? ownedDirectory)
    {
        Host = host;
        _ownedDirectory = ownedDirectory;
    }

    public IHost Host { get; }

    public TaskManager Manager => Host.Services.GetRequiredService<TaskManager>();

    internal ITaskStore Store => Host.Services.GetRequiredService<ITaskStore>();

    public static EngineHost Create(
        Action<TaskSystemBuilder> handlers,
        Action<TaskSystemOptions>? configure = null,
        TimeProvider? time = null,
        TempDirectory? directory = null)
    {
        var owned = directory is null ? new TempDirectory() : null;
        var folder = directory ?? owned!;
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        var taskSystem = builder.Services.AddTaskSystem(options =>
        {
            options.ConnectionString = folder.SqliteConnectionString;
            options.NodeName = "test-node";
            options.RetryBaseDelay = TimeSpan.FromMilliseconds(20);
            options.RetryMaxDelay = TimeSpan.FromMilliseconds(100);
            configure?.Invoke(options);
        });
        handlers(taskSystem);
        return new EngineHost(builder.Build(), owned);
    }

    public static async Task<EngineHost> StartAsync(
        Action<TaskSystemBuilder> handlers,
        Action<TaskSystemOptions>? configure = null,
        TimeProvider? time = null,
        TempDirectory? directory = null)
    {
        var host = Create(handlers, configure, time, directory);
        await host.Host.StartAsync();
        return host;
    }

    public Task<TaskInfo> EnqueueAsync(string type, object? payload = null, Func<TaskRequest, TaskRequest>? change = null)
    {
        var request = new TaskRequest(type) { Payload = payload is null ? null : System.Text.Json.JsonSerializer.SerializeToElement(payload) };
        return Manager.EnqueueAsync(change is null ? request : change(request));
    }

    public Task<TaskInfo> WaitForStateAsync(long id, TaskState state, TimeSpan? timeout = null) =>
        Eventually.Until(async () => (await Manager.GetAsync(id))!, task => task.State == state, timeout, $"task {id} to be {state}");

    private bool _stopped;

    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await Host.StopAsync(deadline.Token);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            if (Host is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync();
            }

            _ownedDirectory?.Dispose();
        }
    }
}
