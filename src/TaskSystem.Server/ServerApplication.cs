using TaskSystem.Server.Configuration;
using TaskSystem.Server.Dashboard;
using TaskSystem.Server.Diagnostics;
using TaskSystem.Server.Handlers;
using TaskSystem.Server.Health;
using TaskSystem.Server.Http;
using TaskSystem.Server.Security;

namespace TaskSystem.Server;

/// <summary>Builds the server: settings, the TaskSystem engine with the demo handler, the HTTP API and health.</summary>
internal static class ServerApplication
{
    /// <param name="args">Command-line arguments (settings such as --urls or --TaskSystem:Concurrency).</param>
    /// <param name="customize">Lets a host (the benchmark) add services or settings before the app is built.</param>
    /// <param name="mapExtra">Lets a host (the benchmark) map extra endpoints on the same pipeline.</param>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? customize = null, Action<WebApplication>? mapExtra = null)
    {
        // Settings come from the app's own folder whatever the working directory; relative data paths stay relative to it.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        if (!ListenAddresses.IsConfigured(builder.Configuration))
        {
            // The seed's port. --urls (or the URLS variable) changes it.
            builder.WebHost.UseUrls(ListenAddresses.Default);
        }

        builder.Services
            .AddTaskSystem(builder.Configuration.GetSection(TaskSystemOptions.SectionName))
            .UsePostgreSql()
            .AddHandler<DemoHandler>(DemoHandler.Type);
        builder.Services.AddTaskSystemHttpApi();
        builder.Services.AddTaskSystemSecurity(builder.Configuration);
        builder.Services.AddTaskSystemTelemetry(builder.Configuration);
        builder.Services.AddTaskSystemDashboard();
        customize?.Invoke(builder);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();

        // The dashboard's static files come first and are served to anyone: they hold no data, and the page asks
        // for a key. Every endpoint below needs an API key when TaskSystem:ApiKeys is set, unless it opts out with
        // AllowAnonymous() as the health probes do.
        app.UseTaskSystemDashboard();
        app.UseTaskSystemSecurity();
        app.MapTasksApi();
        app.MapWorkersApi();
        app.MapDashboardApi();
        app.MapHealthApi();
        app.MapMetricsApi();
        mapExtra?.Invoke(app);
        return app;
    }
}
