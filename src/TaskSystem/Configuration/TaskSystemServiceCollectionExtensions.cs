using System.Diagnostics.Metrics;
using Microsoft.Data.Sqlite;
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
using TaskSystem.Scheduling;
using TaskSystem.Storage;
using TaskSystem.Storage.Sqlite;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds TaskSystem to an application's services: a node that runs tasks, or a client that only enqueues them.</summary>
public static class TaskSystemServiceCollectionExtensions
{
    /// <summary>Adds a TaskSystem node (workers included) with settings bound from <paramref name="configuration"/> (the <c>TaskSystem</c> section).</summary>
    public static TaskSystemBuilder AddTaskSystem(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var builder = AddTaskSystemCore(services, withEngine: true);
        services.AddOptions<TaskSystemOptions>().Bind(configuration);
        return builder;
    }

    /// <summary>Adds a TaskSystem node (workers included) with settings set in code (defaults otherwise: SQLite in <c>data/tasks.db</c> under the content root, 5 workers).</summary>
    public static TaskSystemBuilder AddTaskSystem(this IServiceCollection services, Action<TaskSystemOptions>? configure = null)
    {
        var builder = AddTaskSystemCore(services, withEngine: true);
        if (configure is not null)
        {
            services.AddOptions<TaskSystemOptions>().Configure(configure);
        }

        return builder;
    }

    /// <summary>
    /// Adds TaskSystem without workers, for an app that only enqueues, reads and stops tasks that other processes
    /// run (a web front end before a worker service, both on one PostgreSQL database): <see cref="TaskManager"/> and
    /// <see cref="ITaskManager"/>, no engine, no hosted service. Declare the types it enqueues with
    /// <see cref="TaskSystemBuilder.AddTaskType"/>. Settings bound from <paramref name="configuration"/>.
    /// </summary>
    public static TaskSystemBuilder AddTaskSystemClient(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var builder = AddTaskSystemCore(services, withEngine: false);
        services.AddOptions<TaskSystemOptions>().Bind(configuration);
        return builder;
    }

    /// <summary>Adds TaskSystem without workers (see <see cref="AddTaskSystemClient(IServiceCollection, IConfiguration)"/>), with settings set in code.</summary>
    public static TaskSystemBuilder AddTaskSystemClient(this IServiceCollection services, Action<TaskSystemOptions>? configure = null)
    {
        var builder = AddTaskSystemCore(services, withEngine: false);
        if (configure is not null)
        {
            services.AddOptions<TaskSystemOptions>().Configure(configure);
        }

        return builder;
    }

    private static TaskSystemBuilder AddTaskSystemCore(IServiceCollection services, bool withEngine)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(TaskManager)))
        {
            throw new InvalidOperationException(
                "AddTaskSystem or AddTaskSystemClient was called twice; call one once and chain AddHandler and AddTaskType calls on its result.");
        }

        services.AddOptions<TaskSystemOptions>().ValidateOnStart();
        services.AddSingleton<IValidateOptions<TaskSystemOptions>, TaskSystemOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();

        services.AddSingleton<HandlerRegistry>();
        services.AddSingleton<PayloadJson>();
        services.AddSingleton(sp => EngineSettings.From(sp.GetRequiredService<IOptions<TaskSystemOptions>>().Value));
        services.AddSingleton(sp => new WriteHealth(
            sp.GetRequiredService<TimeProvider>(), WriteHealth.MemoryFor(sp.GetRequiredService<EngineSettings>().HeartbeatInterval)));
        services.AddSingleton<StoreTelemetry>();
        services.AddSingleton(sp => InstrumentedTaskStore.Wrap(CreateStore(sp), sp.GetRequiredService<StoreTelemetry>()));
        services.AddSingleton<WakeSignal>();
        services.AddSingleton<RunningTasks>();
        services.AddSingleton<StopWaiters>();
        services.AddSingleton<TaskWaiters>();
        services.AddSingleton(sp => new WorkerSlots(withEngine ? sp.GetRequiredService<EngineSettings>().Concurrency : 0, sp.GetRequiredService<WakeSignal>()));
        services.AddSingleton(sp => new TasksClaimedAhead(
            withEngine && sp.GetRequiredService<EngineSettings>() is { ClaimAhead: true } settings ? settings.Concurrency : 0, sp.GetRequiredService<TimeProvider>()));
        // The cap is kept by nodes with workers, whose housekeeping counts the queue; a client never counts it.
        services.AddSingleton(sp => new QueueCounts(withEngine ? sp.GetRequiredService<IOptions<TaskSystemOptions>>().Value.MaxQueued : 0));
        services.AddSingleton<TaskMetrics>();
        services.AddExternalWorkers();
        services.AddSingleton<TaskRequestValidator>();
        services.AddSingleton<TaskStopper>();
        services.AddSingleton<TaskEnqueuer>();
        services.AddSingleton<ScheduleSignal>();
        services.AddSingleton<Schedules>();
        services.AddSingleton(sp => new TaskManager(
            sp.GetRequiredService<ITaskStore>(),
            sp.GetRequiredService<HandlerRegistry>(),
            sp.GetRequiredService<TaskEnqueuer>(),
            sp.GetRequiredService<TaskStopper>(),
            sp.GetRequiredService<RunningTasks>(),
            sp.GetRequiredService<TaskWaiters>(),
            sp.GetRequiredService<PayloadJson>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<TaskSystemOptions>>().Value,
            sp.GetRequiredService<ExternalTypes>()));
        services.AddSingleton<ITaskManager>(sp => sp.GetRequiredService<TaskManager>());
        services.AddSingleton<TaskBulkActions>();
        services.AddSingleton(sp => new QueueLimits(sp.GetRequiredService<IOptions<TaskSystemOptions>>().Value));
        services.AddSingleton(sp => new TaskQueues(
            sp.GetRequiredService<ITaskStore>(),
            sp.GetRequiredService<WakeSignal>(),
            sp.GetRequiredService<WorkerSignals>(),
            sp.GetRequiredService<QueueLimits>(),
            sp.GetRequiredService<TimeProvider>(),
            runsHandlers: withEngine && sp.GetRequiredService<EngineSettings>().Concurrency > 0));
        if (withEngine)
        {
            AddEngine(services);
        }

        return new TaskSystemBuilder(services);
    }

    /// <summary>The workers: dispatcher, executor, completer, maintenance, and the hosted service that runs them.</summary>
    private static void AddEngine(IServiceCollection services)
    {
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

        services.AddSingleton<Housekeeping>();
        services.AddSingleton<Completer>();
        services.AddSingleton<TaskExecutor>();
        services.AddSingleton<Dispatcher>();
        services.AddSingleton<NodeMaintenance>();
        services.AddSingleton<SelfFencing>();
        services.AddSingleton<SignalHandler>();
        services.AddSingleton<TaskEngine>();
        services.AddHostedService(sp => sp.GetRequiredService<TaskEngine>());
        // After the engine, whose start migrates the store.
        services.AddSingleton<ScheduleRunner>();
        services.AddHostedService(sp => sp.GetRequiredService<ScheduleRunner>());
    }

    private static ITaskStore CreateStore(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<TaskSystemOptions>>().Value;
        var providers = services.GetServices<StoreProvider>().ToList();
        var name = StoreProvider.Effective(options, providers);
        if (string.Equals(name, StoreProvider.Sqlite, StringComparison.OrdinalIgnoreCase))
        {
            var contentRoot = services.GetService<IHostEnvironment>()?.ContentRootPath ?? AppContext.BaseDirectory;
            return new SqliteTaskStore(
                SqliteConnectionString(options.ConnectionString ?? TaskSystemOptions.DefaultSqliteConnectionString, contentRoot),
                services.GetRequiredService<ILogger<SqliteTaskStore>>())
            {
                WriteHealth = services.GetRequiredService<WriteHealth>(),
                CommitMetrics = new SqliteCommitMetrics(services.GetRequiredService<IMeterFactory>()),
            };
        }

        var provider = providers.LastOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidOperationException($"No store provider is registered for TaskSystem:Provider '{name}'.");
        return provider.Create(services, options);
    }

    /// <summary>
    /// The SQLite connection string with a relative file resolved against <paramref name="contentRoot"/>, never the
    /// working directory. A PostgreSQL connection string given to the SQLite store says what to do instead.
    /// </summary>
    internal static string SqliteConnectionString(string connectionString, string contentRoot)
    {
        SqliteConnectionStringBuilder builder;
        try
        {
            builder = new SqliteConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException exception)
        {
            throw new InvalidOperationException(
                "TaskSystem:ConnectionString is not a SQLite connection string, and TaskSystem:Provider is sqlite. For PostgreSQL, " +
                "call UsePostgreSql() (TaskSystem.PostgreSql package) or set TaskSystem:Provider to postgres. " + exception.Message,
                exception);
        }

        if (!string.IsNullOrEmpty(builder.DataSource) && builder.DataSource != ":memory:" && !Path.IsPathRooted(builder.DataSource))
        {
            builder.DataSource = Path.GetFullPath(Path.Combine(contentRoot, builder.DataSource));
        }

        return builder.ToString();
    }
}
