using System.Diagnostics;
using TaskSystem.Benchmarks.Subjects;
using TaskSystem.Benchmarks.Support;

namespace TaskSystem.Benchmarks.Workloads;

/// <summary>
/// A chain of continuations (1,000 links; 100 quick), each <c>after</c> the one before, on SQLite and PostgreSQL: the time
/// per link is one outcome written, the next link released in that transaction, the dispatcher woken and the link
/// claimed and run. No poll is involved (the poll interval is the default second: a link waiting for it would show).
/// </summary>
internal sealed class ChainWorkload : IWorkload
{
    public string Name => "chain";

    public string Description => "a chain of continuations, each after the previous: time per link";

    public async Task RunAsync(BenchContext context)
    {
        var links = context.Options.Size(1000, 50);
        await using (var sqlite = TaskSystemNode.Sqlite(context.NewFolder(), workers: 4))
        {
            await RunChainAsync(context, sqlite, "SQLite", links);
        }

        if (await context.PostgresAsync() is not null)
        {
            await using var postgres = TaskSystemNode.Postgres(PostgresServer.NewDatabase(), 4, "bench", b => b.UsePostgreSql());
            await RunChainAsync(context, postgres, "PostgreSQL", links);
        }
        else
        {
            Console.WriteLine("  PostgreSQL cannot run here: its chain is left out");
        }
    }

    private static async Task RunChainAsync(BenchContext context, TaskSystemNode node, string store, int links)
    {
        await node.StartAsync();

        // The chain hangs off a task that waits until it is stopped: the first link runs whatever its outcome.
        var gate = await node.Manager.EnqueueAsync(new TaskRequest("wait"));
        var last = (await node.Manager.EnqueueAsync(new TaskRequest("noop") { After = [gate.Id], AfterPolicy = AfterPolicy.AnyOutcome })).Id;
        var chain = new List<long>(links) { last };
        for (var i = 1; i < links; i++)
        {
            last = (await node.Manager.EnqueueAsync(new TaskRequest("noop") { After = [last] })).Id;
            chain.Add(last);
        }

        await node.Probes.WhenStarted(gate.Id).WaitAsync(TimeSpan.FromSeconds(30));
        var watch = Stopwatch.StartNew();
        await node.Manager.StopAsync(gate.Id);
        var done = await node.Manager.WaitAsync(last);
        watch.Stop();
        if (done?.State != TaskState.Succeeded)
        {
            throw new InvalidOperationException($"The chain's last link ended {done?.State}.");
        }

        var perLink = watch.Elapsed.TotalMilliseconds / links;
        Console.WriteLine($"  {store}: {links} links in {watch.Elapsed.TotalSeconds:0.00} s, {perLink:0.00} ms per link");
        context.Report.Add("chain", $"continuation chain on {store}, time per link ({links} links)", perLink, "ms");
        await ReportLinkPartsAsync(context, node, store, chain);
    }

    /// <summary>
    /// Splits a link's time in two from the tasks' own timestamps: from a link's end (its handler returned) to the
    /// next link's start (the outcome committed, the child released, the dispatcher woken, the claim begun), and from
    /// a start to that link's end (the claim committed, the handler scheduled and run). Per tenth of the chain, so
    /// that a cost growing with the chain's progress would show.
    /// </summary>
    private static async Task ReportLinkPartsAsync(BenchContext context, TaskSystemNode node, string store, List<long> chain)
    {
        var tasks = new List<TaskInfo>(chain.Count);
        foreach (var id in chain)
        {
            tasks.Add(await node.Manager.GetAsync(id) ?? throw new InvalidOperationException($"Link {id} is gone."));
        }

        var handover = new Latencies();
        var run = new Latencies();
        var tenths = new List<string>();
        for (var i = 1; i < tasks.Count; i++)
        {
            handover.Add(tasks[i].StartedAt!.Value - tasks[i - 1].FinishedAt!.Value);
            run.Add(tasks[i].FinishedAt!.Value - tasks[i].StartedAt!.Value);
        }

        var tenth = Math.Max(1, tasks.Count / 10);
        for (var start = 0; start + tenth < tasks.Count; start += tenth)
        {
            var span = tasks[start + tenth].FinishedAt!.Value - tasks[start].FinishedAt!.Value;
            tenths.Add($"{span.TotalMilliseconds / tenth:0.0}");
        }

        Console.WriteLine($"  {store}: end to next start p50 {handover.Percentile(50):0.00} ms (p99 {handover.Percentile(99):0.00}), "
            + $"start to end p50 {run.Percentile(50):0.00} ms (p99 {run.Percentile(99):0.00}); ms per link by tenth of the chain: {string.Join(" ", tenths)}");
        handover.Report(context.Report, "chain", $"chain on {store}, a link's end to the next link's start");
        run.Report(context.Report, "chain", $"chain on {store}, a link's start to its end");
    }
}
