using TaskSystem.Server.Dashboard;
using TaskSystem.Server.Handlers;
using TaskSystem.Server.Health;
using TaskSystem.Server.Http;

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
        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
        {
            // The seed's port. --urls (or the URLS variable) changes it.
            builder.WebHost.UseUrls("http://localhost:4000");
        }

        builder.Services
            .AddTaskSystem(builder.Configuration.GetSection(TaskSystemOptions.SectionName))
            .UsePostgreSql()
            .AddHandler<DemoHandler>(DemoHandler.Type);
        builder.Services.AddTaskSystemHttpApi();
        builder.Services.AddTaskSystemDashboard();
        customize?.Invoke(builder);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseTaskSystemDashboard();
        app.MapTasksApi();
        app.MapDashboardApi();
        app.MapHealthApi();
        mapExtra?.Invoke(app);
        return app;
    }
}
