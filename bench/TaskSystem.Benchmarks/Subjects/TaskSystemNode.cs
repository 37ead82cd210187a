using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace TaskSystem.Benchmarks.Subjects;

/// <summary>
/// A TaskSystem node in this process with the benchmark's handlers: <c>noop</c> (counts), <c>delay</c> (waits the
/// payload's <c>ms</c>, then counts), <c>probe</c> (reports its start) and <c>wait</c> (runs until cancelled,
/// reporting when it sees the cancellation).
/// </summary>
internal sealed class TaskSystemNode : IAsyncDisposable
{
    /// <summary>Whether nodes may claim ahead of their free workers (the default); --no-claim-ahead turns it off.</summary>
    public static bool ClaimAhead { get; set; } = true;

    private long _executed;
    private bool _started;

    private TaskSystemNode(string store, string connectionString, int workers, string node, Action<TaskSystemBuilder>? configureStore)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var taskSystem = builder.Services.AddTaskSystem(options =>
        {
            options.Provider = store;
            options.ConnectionString = connectionString;
            options.Concurrency = workers;
            options.NodeName = node;
            options.ClaimAhead = ClaimAhead;
        });
        configureStore?.Invoke(taskSystem);
        taskSystem
            .AddHandler("noop", (_, _) =>
            {
                Interlocked.Increment(ref _executed);
                return ValueTask.FromResult<JsonElement?>(null);
            })
            .AddHandler("delay", async (task, token) =>
            {
                // A task that waits on I/O for the time its payload says, as most real tasks do.
                await Task.Delay(task.Payload.GetProperty("ms").GetInt32(), token);
                Interlocked.Increment(ref _executed);
                return null;
            })
            .AddHandler("probe", (task, _) =>
            {
                Probes.Started(task.Id);
                return ValueTask.FromResult<JsonElement?>(null);
            })
            .AddHandler("wait", async (task, token) =>
            {
                Probes.Started(task.Id);
                try
                {
                    await Task.Delay(Timeout.Infinite, token);
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    // Seen where the handler sees it, not by a callback registered on the token: a token runs its
                    // callbacks most recent first, so Task.Delay's can end the handler inline and the handler's
                    // `using` then removes its own callback before its turn (one stop in a few hundred was missed).
                    Probes.Cancelled(task.Id);
                    throw;
                }
            });
        Host = builder.Build();
    }

    public IHost Host { get; }

    public TaskManager Manager => Host.Services.GetRequiredService<TaskManager>();

    public long Executed => Interlocked.Read(ref _executed);

    public ProbeBoard Probes { get; } = new();

    public static TaskSystemNode Sqlite(string folder, int workers, string node = "bench") =>
        new("sqlite", $"Data Source={Path.Combine(folder, "tasks.db")}", workers, node, null);

    public static TaskSystemNode Postgres(string connectionString, int workers, string node, Action<TaskSystemBuilder> usePostgres) =>
        new("postgres", connectionString, workers, node, usePostgres);

    public async Task StartAsync()
    {
        await Host.StartAsync();
        _started = true;
    }

    /// <summary>Enqueues no-op tasks in batches of a thousand, each batch one commit.</summary>
    public async Task EnqueueNoopsAsync(int count, string type = "noop", int priority = 0)
    {
        for (var done = 0; done < count; done += 1000)
        {
            var batch = Math.Min(1000, count - done);
            await Manager.EnqueueManyAsync(Enumerable.Range(0, batch).Select(_ => new TaskRequest(type) { Priority = priority }));
        }
    }

    /// <summary>Starts the node and waits until <paramref name="count"/> no-op tasks ran and their outcomes are stored.</summary>
    public async Task<double> StartAndDrainAsync(int count)
    {
        var clock = Stopwatch.StartNew();
        await StartAsync();
        await WaitDrainedAsync(count);
        return count / clock.Elapsed.TotalSeconds;
    }

    public async Task WaitDrainedAsync(long count)
    {
        while (Executed < count)
        {
            await Task.Delay(2);
        }

        while ((await Manager.CountByStateAsync())[TaskState.Succeeded] < count)
        {
            await Task.Delay(2);
        }
    }

    /// <summary>Waits until nothing is queued or running (the probes enqueued so far have all run).</summary>
    public async Task WaitDrainedProbesAsync()
    {
        while (true)
        {
            var page = await Manager.ListAsync(new TaskListQuery([TaskState.Queued, TaskState.Running], Type: "probe", Limit: 1));
            if (page.Tasks.Count == 0)
            {
                return;
            }

            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_started)
        {
            await Host.StopAsync();
        }

        if (Host is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }
    }
}
