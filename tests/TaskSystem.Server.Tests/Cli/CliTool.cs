using System.Diagnostics;
using System.Reflection;

namespace TaskSystem.Server.Tests.Cli;

/// <summary>The built <c>tasksystem</c> tool (tasksystem.dll of this configuration), run as a user runs it, with its own environment.</summary>
internal static class CliTool
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";
    }

    /// <summary>Runs <c>tasksystem ARGS</c> with TASKSYSTEM_URL and TASKSYSTEM_API_KEY as given (unset when null), whatever the test run had.</summary>
    public static async Task<Result> RunAsync(Uri? url, string? key, params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path());
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        SetOrRemove(start, "TASKSYSTEM_URL", url?.ToString());
        SetOrRemove(start, "TASKSYSTEM_API_KEY", key);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the tool.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"tasksystem {string.Join(' ', arguments)} ran longer than {Timeout}:\n{await output}\n{await error}");
        }

        return new Result(process.ExitCode, await output, await error);
    }

    private static void SetOrRemove(ProcessStartInfo start, string variable, string? value)
    {
        if (value is null)
        {
            start.Environment.Remove(variable);
        }
        else
        {
            start.Environment[variable] = value;
        }
    }

    /// <summary>src/TaskSystem.Cli/bin/CONFIGURATION/net10.0/tasksystem.dll, built before these tests (a project reference).</summary>
    private static string Path()
    {
        var configuration = typeof(CliTool).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var dll = System.IO.Path.Combine(directory.FullName, "src", "TaskSystem.Cli", "bin", configuration, "net10.0", "tasksystem.dll");
            if (File.Exists(dll))
            {
                return dll;
            }
        }

        throw new InvalidOperationException("tasksystem.dll is not built above the tests' folder.");
    }
}
