using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using TaskSystem.Client;

namespace TaskSystem.Cli;

/// <summary><c>add</c>, <c>ls</c>, <c>get</c>, <c>stop</c> and <c>retry</c>: one request each (<c>add --wait</c> and <c>ls --all</c> a few).</summary>
internal static class TaskCommands
{
    public static IEnumerable<Command> Build(TextWriter output, TextWriter error)
    {
        yield return Add(output, error);
        yield return List(output, error);
        yield return Get(output, error);
        yield return Stop(output, error);
        yield return Retry(output, error);
    }

    private static Argument<long> TaskId() => new("id") { Description = "The task's id." };

    private static Command Add(TextWriter output, TextWriter error)
    {
        var type = new Argument<string>("type") { Description = "The task type: the name of a registered handler." };
        var payload = new Option<string?>("--payload", "-p") { Description = "The payload, a JSON object (default: none)." };
        var queue = new Option<string?>("--queue", "-q") { Description = "The queue (default: the server's)." };
        var priority = new Option<int?>("--priority") { Description = "Lower runs first, -1000 to 1000." };
        var maxAttempts = new Option<int?>("--max-attempts") { Description = "Attempts before the task fails." };
        var timeout = new Option<double?>("--timeout") { Description = "Seconds an attempt may run." };
        var runAt = new Option<DateTimeOffset?>("--run-at") { Description = "Do not start before this time (ISO 8601, e.g. 2030-01-01T12:00:00Z)." };
        var key = new Option<string?>("--key") { Description = "An idempotency key: while a task with it is kept, another add answers that task." };
        var wait = new Option<bool>("--wait") { Description = "Wait until the task finishes; exit 9 unless it succeeded." };
        var command = new Command("add", "Enqueue a task.") { type, payload, queue, priority, maxAttempts, timeout, runAt, key, wait };
        command.SetAction(CliContext.Action(output, error, async (context, client, cancellationToken) =>
        {
            JsonElement? body = null;
            if (context.Parse.GetValue(payload) is { } text)
            {
                try
                {
                    body = JsonDocument.Parse(text).RootElement.Clone();
                }
                catch (JsonException notJson)
                {
                    return await context.FailAsync(ExitCodes.Usage, $"--payload is not JSON: {notJson.Message}");
                }
            }

            var options = new TaskSystemEnqueueOptions
            {
                Queue = context.Parse.GetValue(queue),
                Priority = context.Parse.GetValue(priority),
                MaxAttempts = context.Parse.GetValue(maxAttempts),
                Timeout = context.Parse.GetValue(timeout) is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
                RunAt = context.Parse.GetValue(runAt),
                Key = context.Parse.GetValue(key),
            };
            var task = await client.EnqueueAsync(context.Parse.GetValue(type)!, body, options, cancellationToken);
            if (!context.Parse.GetValue(wait))
            {
                await TaskView.WriteAsync(context, task, task.Existing
                    ? $"Task {task.Id} already holds key '{task.Key}': nothing was added."
                    : $"Task {task.Id} enqueued.");
                return ExitCodes.Ok;
            }

            var done = await client.WaitAsync(task.Id, TimeSpan.FromMilliseconds(250), cancellationToken);
            await TaskView.WriteAsync(context, done, $"Task {done.Id} {done.State}.");
            return done.State == "succeeded" ? ExitCodes.Ok : ExitCodes.TaskFailed;
        }));
        return command;
    }

    private static Command List(TextWriter output, TextWriter error)
    {
        var state = new Option<string?>("--state", "-s") { Description = "Only these states, comma-separated (queued, scheduled, running, succeeded, failed, cancelled)." };
        var queue = new Option<string?>("--queue", "-q") { Description = "Only this queue." };
        var type = new Option<string?>("--type", "-t") { Description = "Only this type." };
        var limit = new Option<int>("--limit", "-n") { Description = "Tasks per page, 1 to 1000.", DefaultValueFactory = _ => 20 };
        var cursor = new Option<string?>("--cursor") { Description = "Start at this page (the cursor a previous page printed)." };
        var all = new Option<bool>("--all") { Description = "Every page, not just one." };
        var command = new Command("ls", "List tasks, newest first, a page at a time.") { state, queue, type, limit, cursor, all };
        command.SetAction(CliContext.Action(output, error, async (context, client, cancellationToken) =>
        {
            var filter = new TaskListFilter
            {
                States = context.Parse.GetValue(state)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                Queue = context.Parse.GetValue(queue),
                Type = context.Parse.GetValue(type),
                PageSize = context.Parse.GetValue(limit),
            };
            TaskSystemTaskPage page;
            if (context.Parse.GetValue(all))
            {
                var tasks = new List<TaskSystemTask>();
                await foreach (var task in client.ListAsync(filter, cancellationToken))
                {
                    tasks.Add(task);
                }

                page = new TaskSystemTaskPage(tasks, null);
            }
            else
            {
                page = await client.ListPageAsync(filter, context.Parse.GetValue(cursor), cancellationToken);
            }

            await TaskView.WriteAsync(context, page);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Get(TextWriter output, TextWriter error)
    {
        var id = TaskId();
        var command = new Command("get", "Show a task: its state, attempts, progress, payload, result and errors.") { id };
        command.SetAction(CliContext.Action(output, error, async (context, client, cancellationToken) =>
        {
            await TaskView.WriteDetailAsync(context, await client.GetAsync(context.Parse.GetValue(id), cancellationToken));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Stop(TextWriter output, TextWriter error)
    {
        var id = TaskId();
        var command = new Command("stop", "Stop a task: a waiting one is cancelled at once, a running one is asked to stop.") { id };
        command.SetAction(CliContext.Action(output, error, async (context, client, cancellationToken) =>
        {
            var taskId = context.Parse.GetValue(id);
            var stopped = await client.StopAsync(taskId, cancellationToken);
            if (context.IsJson)
            {
                await context.WriteJsonAsync(new { id = taskId, stopped });
            }
            else
            {
                await context.Output.WriteLineAsync(stopped
                    ? $"Task {taskId.ToString(CultureInfo.InvariantCulture)} stopped."
                    : $"Task {taskId.ToString(CultureInfo.InvariantCulture)}: stop requested; the node running it has not confirmed yet.");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Retry(TextWriter output, TextWriter error)
    {
        var id = TaskId();
        var command = new Command("retry", "Put a failed or cancelled task back in the queue with a fresh set of attempts.") { id };
        command.SetAction(CliContext.Action(output, error, async (context, client, cancellationToken) =>
        {
            var task = await client.RetryAsync(context.Parse.GetValue(id), cancellationToken);
            await TaskView.WriteAsync(context, task, $"Task {task.Id} {task.State} again.");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
