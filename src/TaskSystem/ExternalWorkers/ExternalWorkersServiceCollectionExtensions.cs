using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace TaskSystem.ExternalWorkers;

/// <summary>The services of the external worker protocol, part of every TaskSystem node.</summary>
internal static class ExternalWorkersServiceCollectionExtensions
{
    public static IServiceCollection AddExternalWorkers(this IServiceCollection services)
    {
        services.AddSingleton<IValidateOptions<TaskSystemOptions>, ExternalTypesValidator>();
        services.AddSingleton<ExternalTypes>();
        services.AddSingleton<WorkerSignals>();
        services.AddSingleton<ExternalTasks>();
        services.AddSingleton<ExternalProgress>();

        // After the engine, whose start migrates the store.
        services.AddHostedService<ExternalLeaseRescuer>();
        return services;
    }
}
