using System.CommandLine;
using System.Globalization;
using TaskSystem.Client;

namespace TaskSystem.Cli;

/// <summary>
/// <c>watch ID</c>: the task each time it changes, live from the server's event stream, until it finishes (exit 0 when
/// it succeeded, 9 otherwise). <c>watch</c>: the tasks per state each time they change, until Ctrl+C.
/// </summary>
internal static class WatchCommand
{
    public static Command Build(TextWriter output, TextWriter error)
    {
        var id = new Argument<long?>("id") { Description = "The task to follow until it finishes; without one, the counts per state.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("watch", "Follow a task, or the counts per state, live from the server's event stream.") { id };
        command.SetAction(CliContext.Action(output, error, async (context, client, cancellationToken) =>
        {
            try
            {
                return context.Parse.GetValue(id) is { } taskId
                    ? await WatchTaskAsync(context, client, taskId, cancellationToken)
                    : await WatchCountsAsync(context, client, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl+C: the way a watch ends.
                return ExitCodes.Ok;
            }
        }));
        return command;
    }

    private static async Task<int> WatchTaskAsync(CliContext context, TaskSystemClient client, long id, CancellationToken cancellationToken)
    {
        TaskSystemTask? last = null;
        await foreach (var task in client.WatchTaskAsync(id, cancellationToken: cancellationToken))
        {
            last = task;
            if (context.IsJson)
            {
                await context.WriteJsonLineAsync(task);
            }
            else
            {
                await context.Output.WriteLineAsync(Now() + "  " + TaskView.Line(task));
                await context.Output.FlushAsync(cancellationToken);
            }
        }

        return last?.State == "succeeded" ? ExitCodes.Ok : ExitCodes.TaskFailed;
    }

    private static async Task<int> WatchCountsAsync(CliContext context, TaskSystemClient client, CancellationToken cancellationToken)
    {
        await foreach (var item in client.WatchEventsAsync(cancellationToken: cancellationToken))
        {
            if (context.IsJson)
            {
                await context.WriteJsonLineAsync(new { @event = item.Name, data = item.Data });
            }
            else if (item.Name == "stats" && item.Data.TryGetProperty("counts", out var counts))
            {
                var figures = counts.EnumerateObject().Select(c => $"{c.Name} {c.Value.GetRawText()}");
                await context.Output.WriteLineAsync(Now() + "  " + string.Join("  ", figures));
                await context.Output.FlushAsync(cancellationToken);
            }
        }

        return await context.FailAsync(ExitCodes.Unreachable, "the server closed the event stream.");
    }

    private static string Now() => TimeProvider.System.GetLocalNow().ToString("HH:mm:ss", CultureInfo.InvariantCulture);
}
