using System.CommandLine;

namespace TaskSystem.Cli;

/// <summary>The <c>tasksystem</c> command: its global options and its commands; parsing by System.CommandLine.</summary>
internal static class CliApp
{
    public static readonly Option<string?> Url = new("--url")
    {
        Description = "The server's address (default: TASKSYSTEM_URL, else http://localhost:4000).",
        Recursive = true,
    };

    public static readonly Option<string?> ApiKey = new("--api-key")
    {
        Description = "The API key, sent as a bearer token (default: TASKSYSTEM_API_KEY).",
        Recursive = true,
    };

    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print JSON for scripts instead of tables (errors: the problem details on stderr).",
        Recursive = true,
    };

    public static RootCommand Build(TextWriter output, TextWriter error)
    {
        var root = new RootCommand("tasksystem: enqueue, list, inspect, stop, retry and watch the tasks of a TaskSystem server.");
        root.Options.Add(Url);
        root.Options.Add(ApiKey);
        root.Options.Add(Json);
        foreach (var command in TaskCommands.Build(output, error))
        {
            root.Subcommands.Add(command);
        }

        root.Subcommands.Add(WatchCommand.Build(output, error));
        return root;
    }

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var parsed = Build(output, error).Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // Usage errors have their own exit code (System.CommandLine's default is 1, which means a failure here).
            foreach (var problem in parsed.Errors)
            {
                await error.WriteLineAsync("error: " + problem.Message);
            }

            await error.WriteLineAsync("Run 'tasksystem --help' for usage.");
            return ExitCodes.Usage;
        }

        var configuration = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        return await parsed.InvokeAsync(configuration);
    }
}
