using Microsoft.Extensions.Options;
using TaskSystem;
using TaskSystem.Server.Handlers;
using TaskSystem.Server.Health;
using TaskSystem.Server.Http;

if (args is ["healthcheck", ..])
{
    // The Docker HEALTHCHECK: the runtime image has no curl.
    return await HealthProbe.RunAsync(args.Length > 1 ? args[1] : "http://localhost:4000/health/live");
}

try
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

    var app = builder.Build();
    app.UseExceptionHandler();
    app.UseStatusCodePages();
    app.MapTasksApi();
    app.MapHealthApi();
    await app.RunAsync();
    return 0;
}
catch (OptionsValidationException exception)
{
    await Console.Error.WriteLineAsync("TaskSystem cannot start: invalid settings.\n  " + string.Join("\n  ", exception.Failures));
    return 2;
}
catch (Exception exception) when (exception is InvalidOperationException or ArgumentException or IOException or UnauthorizedAccessException
    or TaskSystem.Storage.TaskStoreUnavailableException)
{
    await Console.Error.WriteLineAsync($"TaskSystem cannot start: {exception.Message}");
    return 1;
}

/// <summary>The server's entry point; public so that tests can host it.</summary>
public partial class Program;
