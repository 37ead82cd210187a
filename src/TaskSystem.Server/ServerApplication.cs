using TaskSystem.Server.Configuration;
using TaskSystem.Server.Diagnostics;
using TaskSystem.Server.Handlers;
using TaskSystem.Server.Health;
using TaskSystem.Server.Http;
using TaskSystem.Server.Security;

namespace TaskSystem.Server;

/// <summary>
/// Builds the server: a thin host over the TaskSystem library and its ASP.NET Core endpoints, with its own settings,
/// API keys, telemetry, health probes and the demo handler.
/// </summary>
internal static class ServerApplication
{
    /// <param name="args">Command-line arguments (settings such as --urls or --TaskSystem:Concurrency).</param>
    /// <param name="customize">Lets a host (the benchmark) add services or settings before the app is built.</param>
    /// <param name="mapExtra">Lets a host (the benchmark) map extra endpoints on the same pipeline.</param>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? customize = null, Action<WebApplication>? mapExtra = null)
    {
        // Settings come from the app's own folder whatever the working directory; relative data paths stay relative to it.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        AspireConnectionString.Apply(builder.Configuration);
        if (!ListenAddresses.IsConfigured(builder.Configuration))
        {
            // The seed's port. --urls (or the URLS variable) changes it.
            builder.WebHost.UseUrls(ListenAddresses.Default);
        }

        builder.Services
            .AddTaskSystem(builder.Configuration.GetSection(TaskSystemOptions.SectionName))
            .UsePostgreSql()
            .AddHandler<DemoHandler>(DemoHandler.Type)
            .AddHttpTargets(builder.Configuration.GetSection(HttpTargetOptions.SectionName))
            .AddAspNetCore();
        builder.Services.AddServerHttp();
        builder.Services.AddApiDocumentation();
        builder.Services.AddTaskSystemSecurity(builder.Configuration);
        builder.Services.AddTaskSystemTelemetry(builder.Configuration);
        customize?.Invoke(builder);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();

        // With TaskSystem:ApiKeys set, every endpoint needs a key (a fallback policy), but for those that opt out: the
        // health probes, and the dashboard's page and files, which hold no data (the page asks for a key).
        app.UseTaskSystemSecurity();
        app.MapTaskSystemDashboard("/", dashboard =>
        {
            dashboard.LocalRequestsOnly = false;
            dashboard.AssetsAllowAnonymous = true;
        });
        app.MapTaskSystemApi("/tasks", api =>
        {
            api.LocalRequestsOnly = false;
            api.DefaultType = DemoHandler.Type;
        });
        app.MapTaskSystemWorkers("", workers => workers.LocalRequestsOnly = false);
        app.MapTaskSystemSchedules("/schedules", schedules => schedules.LocalRequestsOnly = false);
        app.MapTaskSystemQueues("/queues", queues => queues.LocalRequestsOnly = false);
        app.MapHealthApi();
        app.MapMetricsApi();
        app.MapApiDocumentation();
        mapExtra?.Invoke(app);
        return app;
    }
}
