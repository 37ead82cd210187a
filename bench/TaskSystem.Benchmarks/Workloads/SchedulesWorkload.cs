using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TaskSystem.Benchmarks.Support;
using TaskSystem.Server;

namespace TaskSystem.Benchmarks.Workloads;

/// <summary>
/// The second wave's ways in, on the real server over loopback: POST /tasks/batch at 1,000 tasks per request (one
/// commit each) beside single POST /tasks; and how late a one-second schedule's tasks are committed after their ticks.
/// </summary>
internal sealed class SchedulesWorkload : IWorkload
{
    private const string Envelope = """{"type": "demo", "runAt": "2100-01-01T00:00:00Z", "payload": {"name": "Jean", "number": "42"}}""";

    public string Name => "schedules";

    public string Description => "batch enqueue over HTTP (1,000 per request) and schedule tick punctuality";

    public async Task RunAsync(BenchContext context)
    {
        var duration = context.Options.Duration(5, 0.5);
        await using var app = await BenchServer.StartAsync(context);
        var server = app.Endpoint;
        var batch = $$"""{"tasks": [{{string.Join(", ", Enumerable.Repeat(Envelope, 1000))}}]}""";
        await HttpLoad.RunAsync(server, "/tasks/batch", batch, 2, TimeSpan.FromSeconds(context.Options.Quick ? 0.3 : 1)); // warm-up
        var batches = await HttpLoad.RunAsync(server, "/tasks/batch", batch, 4, duration);
        var singles = await HttpLoad.RunAsync(server, "/tasks", Envelope, 16, duration);
        if (batches.Statuses.Keys.Any(s => s != 201) || singles.Statuses.Keys.Any(s => s != 201))
        {
            throw new InvalidOperationException("Unexpected statuses in the batch workload.");
        }

        var batchRate = context.Report.Add("schedules", "POST /tasks/batch, 1,000 per request, 4 connections", batches.Rate * 1000, "tasks/s");
        batches.Latencies.Report(context.Report, "schedules", "POST /tasks/batch (1,000 tasks)");
        var singleRate = context.Report.Add("schedules", "POST /tasks, one per request, 16 connections", singles.Rate, "tasks/s");
        context.Report.Ratio("batch-enqueue", batchRate / singleRate, "tasks/s through POST /tasks/batch ÷ through single POST /tasks");

        await PunctualityAsync(context, app);
    }

    /// <summary>A schedule every second; the delay from each tick to its task's commit (createdAt − scheduledFor).</summary>
    private static async Task PunctualityAsync(BenchContext context, BenchServer server)
    {
        using var client = server.NewClient();
        var ticks = context.Options.Quick ? 2 : 20;
        using (var put = await client.PutAsync(new Uri("/schedules/bench-pulse", UriKind.Relative),
            new StringContent("""{"every": 1, "type": "demo", "payload": {"durationMs": 0}}""")))
        {
            put.EnsureSuccessStatusCode();
        }

        var delays = new Latencies();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(ticks + 10);
        List<JsonElement> tasks = [];
        while (tasks.Count < ticks && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
            var page = await client.GetFromJsonAsync<JsonElement>(new Uri("/tasks?state=all&type=demo&limit=1000", UriKind.Relative));
            tasks = [.. page.GetProperty("tasks").EnumerateArray().Where(t => t.TryGetProperty("schedule", out var s) && s.GetString() == "bench-pulse")];
        }

        foreach (var task in tasks)
        {
            delays.Add(task.GetProperty("createdAt").GetDateTimeOffset() - task.GetProperty("scheduledFor").GetDateTimeOffset());
        }

        using (await client.DeleteAsync(new Uri("/schedules/bench-pulse", UriKind.Relative)))
        {
        }

        Console.WriteLine($"  {delays.Count} ticks measured");
        delays.Report(context.Report, "schedules", "tick to task commit");
    }
}
