using Microsoft.Extensions.Options;
using TaskSystem;
using TaskSystem.Server.Configuration;
using TaskSystem.Server.Diagnostics;
using TaskSystem.Server.Handlers;
using TaskSystem.Server.Health;
using TaskSystem.Server.Http;
using TaskSystem.Server.Security;

if (args is ["healthcheck", ..])
{
    // The Docker HEALTHCHECK: the runtime image has no curl.
    return await HealthProbe.RunAsync(args.Length > 1 ? args[1] : "http://localhost:4000/health/live");
}

try
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
        .AddHandler<DemoHandler>(DemoHandler.Type);
    builder.Services.AddTaskSystemHttpApi();
    builder.Services.AddTaskSystemSecurity(builder.Configuration);
    builder.Services.AddTaskSystemTelemetry(builder.Configuration);

    var app = builder.Build();
    app.UseExceptionHandler();
    app.UseStatusCodePages();

    // Static files placed above this line are served to anyone (they must hold no data); every endpoint below needs
    // an API key when TaskSystem:ApiKeys is set, unless it opts out with AllowAnonymous() as the health probes do.
    app.UseTaskSystemSecurity();
    app.MapTasksApi();
    app.MapHealthApi();
    app.MapMetricsApi();
    await app.RunAsync();
    return 0;
}
catch (OptionsValidationException exception)
{
    await Console.Error.WriteLineAsync("TaskSystem cannot start: invalid settings.\n  " + string.Join("\n  ", exception.Failures));
    return 2;
}
catch (Exception exception) when (exception is InvalidOperationException or ArgumentException or IOException or UnauthorizedAccessException)
{
    await Console.Error.WriteLineAsync($"TaskSystem cannot start: {exception.Message}");
    return 1;
}

/// <summary>The server's entry point; public so that tests can host it.</summary>
public partial class Program;
