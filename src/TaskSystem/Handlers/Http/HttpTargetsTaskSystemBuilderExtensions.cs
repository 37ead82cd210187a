using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TaskSystem.Handlers.Http;

namespace TaskSystem;

/// <summary>Adds the built-in <c>http</c> task type: each attempt is an HTTP request to the task's URL.</summary>
public static class HttpTargetsTaskSystemBuilderExtensions
{
    /// <summary>The task type that <see cref="AddHttpTargets(TaskSystemBuilder, IConfiguration)"/> registers.</summary>
    public const string TaskType = HttpTargetHandler.TaskType;

    /// <summary>
    /// Adds the <c>http</c> task type with settings bound from <paramref name="configuration"/> (the
    /// <c>TaskSystem:Http</c> section). Tasks are refused until <see cref="HttpTargetOptions.AllowedTargets"/> is set.
    /// </summary>
    public static TaskSystemBuilder AddHttpTargets(this TaskSystemBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        AddHttpTargetsCore(builder).Bind(configuration);
        return builder;
    }

    /// <summary>Adds the <c>http</c> task type with settings set in code. Tasks are refused until <see cref="HttpTargetOptions.AllowedTargets"/> is set.</summary>
    public static TaskSystemBuilder AddHttpTargets(this TaskSystemBuilder builder, Action<HttpTargetOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        AddHttpTargetsCore(builder).Configure(configure);
        return builder;
    }

    private static OptionsBuilder<HttpTargetOptions> AddHttpTargetsCore(TaskSystemBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        builder.AddHandler<HttpTargetHandler>(HttpTargetHandler.TaskType);
        services.AddSingleton<IValidateOptions<HttpTargetOptions>, HttpTargetOptionsValidator>();
        services.AddSingleton<HttpTargetSettings>();

        // One handler for the process (its pool is the per-host connection limit), never recycled: connections are
        // renewed every few minutes instead, each one checked by the connector, so DNS changes are seen. No retry,
        // redirect, proxy, cookie or decompression layer: retries are the engine's, redirects are checked against the
        // allow list, and a proxy would make the connector check the proxy's address instead of the target's.
        services.AddHttpClient(HttpTargetHandler.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseProxy = false,
                UseCookies = false,
                AutomaticDecompression = DecompressionMethods.None,
                MaxConnectionsPerServer = sp.GetRequiredService<IOptions<HttpTargetOptions>>().Value.MaxConnectionsPerHost,
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),

                // What is left of a body past the part kept is read only this far to reuse the connection, then dropped.
                MaxResponseDrainSize = HttpTargetResponse.BodyLimit,
                ConnectTimeout = TimeSpan.FromSeconds(15),
                ConnectCallback = new GuardedConnector(sp.GetRequiredService<IOptions<HttpTargetOptions>>().Value.AllowPrivateNetworks).ConnectAsync,
            })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers();
        return services.AddOptions<HttpTargetOptions>().ValidateOnStart();
    }
}
