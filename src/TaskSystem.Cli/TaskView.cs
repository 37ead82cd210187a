using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Rendering;
using TaskSystem.Client;

namespace TaskSystem.Cli;

/// <summary>How tasks are shown: Spectre.Console tables for people, the server's JSON for scripts.</summary>
internal static class TaskView
{
    /// <summary>One task: a line saying what happened and a one-row table, or the task as JSON.</summary>
    public static async Task WriteAsync(CliContext context, TaskSystemTask task, string summary)
    {
        if (context.IsJson)
        {
            await context.WriteJsonAsync(task);
            return;
        }

        context.Console.WriteLine(summary);
        context.Console.Write(Table([task]));
    }

    /// <summary>A page: a table and, when there is more, the command for the next page; or <c>{"tasks", "nextCursor"}</c>.</summary>
    public static async Task WriteAsync(CliContext context, TaskSystemTaskPage page)
    {
        if (context.IsJson)
        {
            await context.WriteJsonAsync(page);
            return;
        }

        if (page.Tasks.Count == 0)
        {
            context.Console.WriteLine("No tasks.");
        }
        else
        {
            context.Console.Write(Table(page.Tasks));
        }

        if (page.NextCursor is { } cursor)
        {
            context.Console.WriteLine($"More: tasksystem ls --cursor {cursor} (with the same filters)");
        }
    }

    /// <summary>Everything about one task, a field a row; its failed attempts below.</summary>
    public static async Task WriteDetailAsync(CliContext context, TaskSystemTask task)
    {
        if (context.IsJson)
        {
            await context.WriteJsonAsync(task);
            return;
        }

        var grid = new Table().HideHeaders().AddColumn("field").AddColumn("value");
        void Row(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                grid.AddRow(new Text(name), new Text(value));
            }
        }

        Row("id", Number(task.Id));
        Row("type", task.Type);
        Row("queue", task.Queue);
        Row("priority", Number(task.Priority));
        Row("state", task.State + (task.StopRequested && !task.IsFinished ? " (stop requested)" : ""));
        Row("attempt", Attempts(task));
        Row("progress", Progress(task));
        Row("created", Time(task.CreatedAt));
        Row("run at", Time(task.RunAt));
        Row("started", Time(task.StartedAt));
        Row("finished", Time(task.FinishedAt));
        Row("timeout", task.TimeoutSeconds.ToString(CultureInfo.InvariantCulture) + " s");
        Row("node", task.Node);
        Row("key", task.Key);
        Row("schedule", task.Schedule);
        Row("payload", Json(task.Payload));
        Row("result", task.Result is { } result ? Json(result) : null);
        Row("error", task.Error);
        context.Console.Write(grid);
        if (task.Errors.Count > 0)
        {
            var errors = new Table().AddColumn("ATTEMPT").AddColumn("AT").AddColumn("ERROR");
            foreach (var failure in task.Errors)
            {
                errors.AddRow(new Text(Number(failure.Attempt)), new Text(Time(failure.At)!), new Text(failure.Error));
            }

            context.Console.Write(errors);
        }
    }

    /// <summary>One line per change, for <c>watch</c>.</summary>
    public static string Line(TaskSystemTask task) =>
        string.Join("  ", new[] { $"task {Number(task.Id)}", task.State, "attempt " + Attempts(task), Progress(task) }.Where(s => !string.IsNullOrEmpty(s)));

    private static Table Table(IEnumerable<TaskSystemTask> tasks)
    {
        var table = new Table().AddColumn("ID").AddColumn("TYPE").AddColumn("QUEUE").AddColumn("STATE").AddColumn("ATTEMPT").AddColumn("PROGRESS").AddColumn("CREATED");
        foreach (var task in tasks)
        {
            table.AddRow(new IRenderable[]
            {
                new Text(Number(task.Id)), new Text(task.Type), new Text(task.Queue), new Text(task.State),
                new Text(Attempts(task)), new Text(Progress(task) ?? ""), new Text(Time(task.CreatedAt)!),
            });
        }

        return table;
    }

    private static string Attempts(TaskSystemTask task) => $"{Number(task.Attempt)}/{Number(task.MaxAttempts)}";

    private static string? Progress(TaskSystemTask task) => task.Progress is { } progress
        ? progress.Percent.ToString("0.#", CultureInfo.InvariantCulture) + "%" + (progress.Message is { Length: > 0 } message ? " " + message : "")
        : null;

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string? Time(DateTimeOffset? time) => time?.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Json(JsonElement value) => value.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? "" : value.GetRawText();
}
