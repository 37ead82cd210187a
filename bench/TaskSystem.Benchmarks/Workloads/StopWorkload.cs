using System.Diagnostics;
using Hangfire;
using TaskSystem.Benchmarks.Subjects;
using TaskSystem.Benchmarks.Support;

namespace TaskSystem.Benchmarks.Workloads;

/// <summary>From the stop call to the moment the running handler sees its cancellation.</summary>
internal sealed class StopWorkload : IWorkload
{
    public string Name => "stop";

    public string Description => "stop latency (stop call to the handler observing cancellation)";

    /// <summary>How long a probe is waited for before the sample is counted as lost: a run must end whatever happens.</summary>
    private static readonly TimeSpan ProbeDeadline = TimeSpan.FromSeconds(30);

    public async Task RunAsync(BenchContext context)
    {
        var samples = context.Options.Size(200, 10);
        await using var node = TaskSystemNode.Sqlite(context.NewFolder(), workers: 5);
        await node.StartAsync();
        var ours = new Latencies();
        var returned = new Latencies();
        for (var i = 0; i < samples; i++)
        {
            var task = await node.Manager.EnqueueAsync(new TaskRequest("wait"));
            await node.Probes.WhenStarted(task.Id).WaitAsync(ProbeDeadline);
            var start = Stopwatch.GetTimestamp();
            await node.Manager.StopAsync(task.Id);
            returned.Add(Stopwatch.GetElapsedTime(start));
            ours.Add(Stopwatch.GetElapsedTime(start, await node.Probes.WhenCancelled(task.Id).WaitAsync(ProbeDeadline)));
        }

        ours.Report(context.Report, "stop", "TaskSystem SQLite stop → cancellation seen");
        returned.Report(context.Report, "stop", "TaskSystem SQLite stop call → returns (task cancelled in the store)");

        using var memory = HangfireNode.InMemory(workers: 5);
        memory.Start();
        var theirs = new Latencies();
        var missed = 0;
        for (var i = 0; i < Math.Min(samples, 50); i++)
        {
            var key = Guid.NewGuid().ToString("N");
            var id = memory.Client.Enqueue(() => HangfireJobs.Wait(key, CancellationToken.None));
            await HangfireJobs.Probes.WhenStarted(key);
            var start = Stopwatch.GetTimestamp();
            memory.Client.Delete(id);
            try
            {
                theirs.Add(Stopwatch.GetElapsedTime(start, await HangfireJobs.Probes.WhenCancelled(key).WaitAsync(TimeSpan.FromSeconds(10))));
            }
            catch (TimeoutException)
            {
                // Counted, not waited for, so that a run always ends (a delete that never reaches its job).
                missed++;
            }
        }

        theirs.Report(context.Report, "stop", "Hangfire in-memory delete → cancellation seen");
        if (missed > 0)
        {
            context.Report.Add("stop", "Hangfire in-memory deletes never seen by the job (10 s)", missed, "jobs");
        }

        if (await context.PostgresAsync() is not null)
        {
            // The stop is sent to a node that is not the one running the task: flag in the database, then NOTIFY.
            var database = PostgresServer.NewDatabase();
            await using var runner = TaskSystemNode.Postgres(database, 5, "runner", b => b.UsePostgreSql());
            await using var stopper = TaskSystemNode.Postgres(database, 5, "stopper", b => b.UsePostgreSql());
            await runner.StartAsync();
            var across = new Latencies();
            var unseen = 0;
            for (var i = 0; i < Math.Min(samples, 100); i++)
            {
                var task = await runner.Manager.EnqueueAsync(new TaskRequest("wait"));
                await runner.Probes.WhenStarted(task.Id).WaitAsync(ProbeDeadline);
                var start = Stopwatch.GetTimestamp();
                var stopping = stopper.Manager.StopAsync(task.Id);
                try
                {
                    across.Add(Stopwatch.GetElapsedTime(start, await runner.Probes.WhenCancelled(task.Id).WaitAsync(ProbeDeadline)));
                }
                catch (TimeoutException)
                {
                    // Counted and printed rather than waited for, so that a run always ends.
                    unseen++;
                }

                await stopping.WaitAsync(ProbeDeadline);
            }

            across.Report(context.Report, "stop", "TaskSystem PostgreSQL stop sent to another node → cancellation seen");
            if (unseen > 0)
            {
                context.Report.Add("stop", $"TaskSystem PostgreSQL stops never seen by the handler ({ProbeDeadline.TotalSeconds:0} s)", unseen, "tasks");
            }
        }
        context.Report.Ratio("stop-sqlite-p50", theirs.Percentile(50) / ours.Percentile(50), "Hangfire in-memory p50 ÷ TaskSystem SQLite p50 (above 1: TaskSystem is faster)");
    }
}
