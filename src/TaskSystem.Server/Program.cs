using Microsoft.Extensions.Options;
using TaskSystem.Server;
using TaskSystem.Server.Health;

if (args is ["healthcheck", ..])
{
    // The Docker HEALTHCHECK: the runtime image has no curl.
    return await HealthProbe.RunAsync(args[1..]);
}

try
{
    var app = ServerApplication.Create(args);
    await app.RunAsync();
    return 0;
}
catch (OptionsValidationException exception)
{
    await Console.Error.WriteLineAsync("TaskSystem cannot start: invalid settings.\n  " + string.Join("\n  ", exception.Failures));
    return 2;
}
catch (Exception exception) when (exception is InvalidOperationException or ArgumentException or IOException or UnauthorizedAccessException
    or TaskSystem.TaskStoreUnavailableException)
{
    await Console.Error.WriteLineAsync($"TaskSystem cannot start: {exception.Message}");
    return 1;
}

/// <summary>The server's entry point; public so that tests can host it.</summary>
public partial class Program;
