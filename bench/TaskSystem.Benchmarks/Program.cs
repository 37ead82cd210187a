using TaskSystem.Benchmarks;
using TaskSystem.Benchmarks.Support;
using TaskSystem.Benchmarks.Workloads;

// dotnet run -c Release --project bench/TaskSystem.Benchmarks [-- --quick] [--only e2e,http,http-target] [--chart file.svg] [--markdown file.md]
var options = BenchOptions.Parse(args);
TaskSystem.Benchmarks.Subjects.TaskSystemNode.ClaimAhead = options.ClaimAhead;
var run = System.Diagnostics.Stopwatch.StartNew();
var report = new Report();
Console.WriteLine(Machine.Describe());
Console.WriteLine($"mode: {(options.Quick ? "quick" : "full")}{(options.ClaimAhead ? "" : ", no claim ahead")}; load average at the start {Machine.LoadAverage()}");
Console.WriteLine();

await using var context = new BenchContext(options, report);
IWorkload[] workloads =
[
    new DiskSyncWorkload(),
    new EndToEndWorkload(),
    new UtilisationWorkload(),
    new EnqueueWorkload(),
    new HttpWorkload(),
    new HttpTargetWorkload(),
    new PickupWorkload(),
    new StopWorkload(),
    new ScaleWorkload(),
    new DashboardWorkload(),
    new WorkersWorkload(),
    new SchedulesWorkload(),
    new BulkWorkload(),
    new ChainWorkload(),
];

var timings = new List<(string Name, TimeSpan Took)>();
foreach (var workload in workloads.Where(w => options.Selects(w.Name)))
{
    Console.WriteLine($"== {workload.Name}: {workload.Description}");
    var started = System.Diagnostics.Stopwatch.GetTimestamp();
    await workload.RunAsync(context);
    timings.Add((workload.Name, System.Diagnostics.Stopwatch.GetElapsedTime(started)));
    Console.WriteLine($"  ({workload.Name} took {timings[^1].Took.TotalSeconds:0.0} s)");
    Console.WriteLine();
}

report.PrintTable(Console.Out);
Console.WriteLine();
report.PrintRatios(Console.Out);
Console.WriteLine($"workloads took {timings.Sum(t => t.Took.TotalSeconds):0.0} s in all ({string.Join(", ", timings.Select(t => $"{t.Name} {t.Took.TotalSeconds:0.0}"))}); load average at the end {Machine.LoadAverage()}");
Console.WriteLine($"run took {run.Elapsed.TotalSeconds:0} s");
if (options.ChartPath is { } chart)
{
    SvgChart.Write(report, chart);
    Console.WriteLine($"chart written to {chart}");
}

if (options.MarkdownPath is { } markdown)
{
    await File.WriteAllTextAsync(markdown, report.ToMarkdown(Machine.Describe(), string.Join(' ', args)));
    Console.WriteLine($"results written to {markdown}");
}
