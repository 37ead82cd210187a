using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TaskSystem;
using TaskSystem.Configuration;
using TaskSystem.Diagnostics;
using TaskSystem.Engine;
using TaskSystem.ExternalWorkers;
using TaskSystem.Handlers;
using TaskSystem.Maintenance;
using TaskSystem.Storage;
using TaskSystem.Storage.Sqlite;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds TaskSystem to an application's services.</summary>
public static class TaskSystemServiceCollectionExtensions
{
    /// <summary>Adds TaskSystem with settings bound from <paramref name="configuration"/> (the <c>TaskSystem</c> section).</summary>
    public static TaskSystemBuilder AddTaskSystem(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var builder = AddTaskSystemCore(services);
        services.AddOptions<TaskSystemOptions>().Bind(configuration);
        return builder;
    }

    /// <summary>Adds TaskSystem with settings set in code (defaults otherwise: SQLite in <c>data/tasks.db</c>, 5 workers).</summary>
    public static TaskSystemBuilder AddTaskSystem(this IServiceCollection services, Action<TaskSystemOptions>? configure = null)
    {
        var builder = AddTaskSystemCore(services);
        if (configure is not null)
        {
            services.AddOptions<TaskSystemOptions>().Configure(configure);
        }

        return builder;
    }

    private static TaskSystemBuilder AddTaskSystemCore(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(TaskEngine)))
        {
            throw new InvalidOperationException("AddTaskSystem was called twice; call it once and chain AddHandler calls on its result.");
        }

        services.AddOptions<TaskSystemOptions>().ValidateOnStart();
        services.AddSingleton<IValidateOptions<TaskSystemOptions>, TaskSystemOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();

        // The host must wait for our shutdown: in-flight stop requests (each up to a grace period, drained by the web
        // server first), then running tasks' shutdown timeout, then the grace period for their handlers to stop.
        services.AddOptions<HostOptions>().PostConfigure<IOptions<TaskSystemOptions>>((host, options) =>
        {
            var needed = options.Value.ShutdownTimeout + (options.Value.StopGracePeriod * 2) + TimeSpan.FromSeconds(10);
            if (host.ShutdownTimeout < needed)
            {
                host.ShutdownTimeout = needed;
            }
        });

        services.AddSingleton<HandlerRegistry>();
        services.AddSingleton(sp => new WriteHealth(
            sp.GetRequiredService<TimeProvider>(), WriteHealth.MemoryFor(sp.GetRequiredService<EngineSettings>().HeartbeatInterval)));
        services.AddSingleton<StoreTelemetry>();
        services.AddSingleton(sp => InstrumentedTaskStore.Wrap(CreateStore(sp), sp.GetRequiredService<StoreTelemetry>()));
        services.AddSingleton(sp => EngineSettings.From(sp.GetRequiredService<IOptions<TaskSystemOptions>>().Value));
        services.AddSingleton<WakeSignal>();
        services.AddSingleton<RunningTasks>();
        services.AddSingleton<StopWaiters>();
        services.AddSingleton(sp => new WorkerSlots(sp.GetRequiredService<EngineSettings>().Concurrency, sp.GetRequiredService<WakeSignal>()));
        services.AddSingleton(sp => new QueueCounts(sp.GetRequiredService<IOptions<TaskSystemOptions>>().Value.MaxQueued));
        services.AddSingleton<TaskMetrics>();
        services.AddSingleton<Housekeeping>();
        services.AddSingleton<Completer>();
        services.AddSingleton<TaskExecutor>();
        services.AddSingleton<Dispatcher>();
        services.AddSingleton<NodeMaintenance>();
        services.AddSingleton<SelfFencing>();
        services.AddSingleton<SignalHandler>();
        services.AddSingleton<TaskEngine>();
        services.AddHostedService(sp => sp.GetRequiredService<TaskEngine>());
        services.AddSingleton<TaskRequestValidator>();
        services.AddSingleton<TaskStopper>();
        services.AddSingleton<TaskEnqueuer>();
        services.AddExternalWorkers();
        services.AddSingleton(sp => new TaskManager(
            sp.GetRequiredService<ITaskStore>(),
            sp.GetRequiredService<HandlerRegistry>(),
            sp.GetRequiredService<TaskEnqueuer>(),
            sp.GetRequiredService<TaskStopper>(),
            sp.GetRequiredService<RunningTasks>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<TaskSystemOptions>>().Value.NodeName,
            sp.GetRequiredService<ExternalTypes>()));
        return new TaskSystemBuilder(services);
    }

    private static ITaskStore CreateStore(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<TaskSystemOptions>>().Value;
        if (string.Equals(options.Provider, "sqlite", StringComparison.OrdinalIgnoreCase))
        {
            return new SqliteTaskStore(
                options.ConnectionString ?? TaskSystemOptions.DefaultSqliteConnectionString,
                services.GetRequiredService<ILogger<SqliteTaskStore>>())
            {
                WriteHealth = services.GetRequiredService<WriteHealth>(),
            };
        }

        var provider = services.GetServices<StoreProvider>().LastOrDefault(p => string.Equals(p.Name, options.Provider, StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidOperationException($"No store provider is registered for TaskSystem:Provider '{options.Provider}'.");
        return provider.Create(services, options);
    }
}
