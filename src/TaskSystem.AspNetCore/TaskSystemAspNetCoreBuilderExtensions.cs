using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using TaskSystem.AspNetCore.Dashboard;
using TaskSystem.AspNetCore.Health;
using TaskSystem.AspNetCore.Http;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers what TaskSystem's endpoints need in an ASP.NET Core app.</summary>
public static class TaskSystemAspNetCoreBuilderExtensions
{
    /// <summary>
    /// Adds what <c>MapTaskSystemApi</c> and <c>MapTaskSystemDashboard</c> need: source-generated JSON for their
    /// types, and the dashboard's change watcher (which reads nothing while no dashboard is open).
    /// </summary>
    public static TaskSystem.TaskSystemBuilder AddAspNetCore(this TaskSystem.TaskSystemBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(DashboardEventHub)))
        {
            return builder;
        }

        services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default);

            // Payloads and results were checked against TaskSystem:MaxJsonDepth when stored; a task wraps them deeper.
            options.SerializerOptions.MaxDepth = Math.Max(options.SerializerOptions.MaxDepth, TaskSystem.JsonLimits.ReadBack.MaxDepth);
        });
        services.TryAddSingleton(new DashboardTimings());
        services.AddSingleton<DashboardEventHub>();
        services.AddSingleton<DashboardQueries>();
        services.AddHostedService<DashboardWatcher>();
        return builder;
    }

    /// <summary>
    /// Adds TaskSystem's readiness checks: the store answers (<c>tasksystem-store</c>) and the workers run
    /// (<c>tasksystem-workers</c>). Map them where the app's probes look, e.g. <c>app.MapHealthChecks("/healthz")</c>.
    /// </summary>
    /// <param name="builder">The app's health checks.</param>
    /// <param name="tags">Tags for both checks (to filter them per endpoint), e.g. <c>["ready"]</c>.</param>
    public static IHealthChecksBuilder AddTaskSystem(this IHealthChecksBuilder builder, params string[] tags)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder
            .AddCheck<StoreHealthCheck>("tasksystem-store", HealthStatus.Unhealthy, tags)
            .AddCheck<EngineHealthCheck>("tasksystem-workers", HealthStatus.Unhealthy, tags);
    }
}
