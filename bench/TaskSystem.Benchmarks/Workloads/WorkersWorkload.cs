using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TaskSystem.Benchmarks.Subjects;
using TaskSystem.Benchmarks.Support;
using TaskSystem.Server;

namespace TaskSystem.Benchmarks.Workloads;

/// <summary>
/// External workers over the HTTP protocol on the real server pipeline (loopback): throughput of no-op tasks drained
/// by 1 and 8 workers that claim 100 at a time and either complete each (one request per task) or report the 100
/// outcomes in one request, beside the same drain by in-process handlers; the
/// claim-to-start latency of a long-polling worker (enqueue to claim answer); and how fast a stop reaches a worker
/// that long-polls its heartbeat.
/// </summary>
internal sealed class WorkersWorkload : IWorkload
{
    private const int ClaimSize = 100;

    /// <summary>The one type the server declares for external workers.</summary>
    private const string ExternalType = "bench-ext";

    public string Name => "workers";

    public string Description => "external workers over HTTP: drain throughput (claim 100; complete each, or report 100 at once), long-poll wake-up, stop delivery";

    public async Task RunAsync(BenchContext context)
    {
        var options = context.Options;
        var count = options.Size(50_000, 1_000);
        var report = context.Report;

        // Warm up the JIT and the connection pools on a small drain.
        await DrainAsync(context, options.Size(10_000, 200), workers: 1, batchReports: false);
        await DrainAsync(context, options.Size(10_000, 200), workers: 1, batchReports: true);

        var inProcess = report.Add("workers", "in-process handlers, 20 workers (same drain)", await InProcessDrainAsync(context, count, 20), "tasks/s");
        foreach (var batchReports in new[] { false, true })
        {
            foreach (var workers in new[] { 1, 8 })
            {
                var name = $"external workers over HTTP, {workers} worker{(workers == 1 ? "" : "s")} claiming {ClaimSize}, " +
                    (batchReports ? $"reporting {ClaimSize} at once" : "completing each");
                var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                var rate = report.Add("workers", name, await DrainAsync(context, count, workers, batchReports), "tasks/s");
                report.Add("workers-cpu", $"{name}: CPU per task (server and workers, one process)",
                    (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMicroseconds / count, "µs");
                report.Ratio($"workers-{workers}w-{(batchReports ? "batch" : "each")}-vs-inprocess", rate / inProcess,
                    $"{workers} external workers over HTTP ({(batchReports ? "batch reports" : "one complete per task")}) ÷ 20 in-process workers, SQLite, same drain");
            }
        }

        await using var server = await BenchServer.StartAsync(context, ["--TaskSystem:ExternalTypes:0", ExternalType]);
        (await WakeUpAsync(server, options.Size(300, 15))).Report(report, "workers", "claim-to-start (long-poll wake-up, enqueue to claim answer)");
        var (delivered, stopCall) = await StopDeliveryAsync(server, options.Size(100, 8));
        delivered.Report(report, "workers", "stop → heartbeat answer with stopRequested (long-poll heartbeat)");
        stopCall.Report(report, "workers", "stop call → returns (worker acknowledged with fail)");
    }

    /// <summary>In-process no-op handlers draining the same number of tasks on SQLite: the reference.</summary>
    private static async Task<double> InProcessDrainAsync(BenchContext context, int count, int workers)
    {
        await using var node = TaskSystemNode.Sqlite(context.NewFolder(), workers);
        await node.EnqueueNoopsAsync(count);
        return await node.StartAndDrainAsync(count);
    }

    /// <summary>
    /// Enqueues <paramref name="count"/> tasks, then times <paramref name="workers"/> workers draining them over HTTP,
    /// completing each task with its own request or, with <paramref name="batchReports"/>, a claim's tasks with one.
    /// </summary>
    private static async Task<double> DrainAsync(BenchContext context, int count, int workers, bool batchReports)
    {
        await using var server = await BenchServer.StartAsync(context, ["--TaskSystem:ExternalTypes:0", ExternalType]);
        for (var done = 0; done < count; done += 1000)
        {
            await server.Manager.EnqueueManyAsync(Enumerable.Range(0, Math.Min(1000, count - done)).Select(_ => new TaskRequest(ExternalType)));
        }

        var completed = 0L;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(async w =>
        {
            using var client = server.NewClient();
            while (Interlocked.Read(ref completed) < count)
            {
                var claimed = await ClaimAsync(client, $"bench-{w}", ClaimSize, waitSeconds: 0.2);
                if (batchReports)
                {
                    if (claimed.Count > 0)
                    {
                        var reports = string.Join(",", claimed.Select(task => $$"""{"id": {{task.Id}}, "leaseToken": "{{task.LeaseToken}}"}"""));
                        using var response = await client.PostAsync(new Uri("/workers/report", UriKind.Relative), Json($$"""{"reports": [{{reports}}]}"""));
                        Ensure(response, HttpStatusCode.OK);
                        using var answer = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
                        var succeeded = answer.RootElement.GetProperty("reports").EnumerateArray().Count(r => r.TryGetProperty("state", out var state) && state.GetString() == "succeeded");
                        if (succeeded != claimed.Count)
                        {
                            throw new InvalidOperationException($"{claimed.Count - succeeded} of {claimed.Count} reports were refused: {answer.RootElement}");
                        }

                        Interlocked.Add(ref completed, claimed.Count);
                    }

                    continue;
                }

                await Task.WhenAll(claimed.Select(async task =>
                {
                    using var response = await client.PostAsync(new Uri($"/tasks/{task.Id}/complete", UriKind.Relative), Json($$"""{"leaseToken": "{{task.LeaseToken}}"}"""));
                    Ensure(response, HttpStatusCode.OK);
                    Interlocked.Increment(ref completed);
                }));
            }
        }));
        return count / clock.Elapsed.TotalSeconds;
    }

    /// <summary>An idle worker long-polls; a task is enqueued; the time until the claim's answer arrives.</summary>
    private static async Task<Latencies> WakeUpAsync(BenchServer server, int samples)
    {
        using var client = server.NewClient();
        var latencies = new Latencies();
        for (var i = 0; i < samples; i++)
        {
            var claim = ClaimAsync(client, "bench-wake", 1, waitSeconds: 30);

            // Let the claim reach its wait, as an idle worker's would be.
            await Task.Delay(5);
            var start = Stopwatch.GetTimestamp();
            await server.Manager.EnqueueAsync(new TaskRequest(ExternalType));
            var claimed = await claim;
            latencies.Add(Stopwatch.GetElapsedTime(start));
            foreach (var task in claimed)
            {
                using var response = await client.PostAsync(new Uri($"/tasks/{task.Id}/complete", UriKind.Relative), Json($$"""{"leaseToken": "{{task.LeaseToken}}"}"""));
                Ensure(response, HttpStatusCode.OK);
            }
        }

        return latencies;
    }

    /// <summary>
    /// A worker holds a task and long-polls its heartbeat; the task is stopped: how long until the heartbeat answers
    /// with the stop, and until the stop call returns (once the worker acknowledged it with a fail).
    /// </summary>
    private static async Task<(Latencies Delivered, Latencies StopCall)> StopDeliveryAsync(BenchServer server, int samples)
    {
        using var client = server.NewClient();
        var delivered = new Latencies();
        var stopCall = new Latencies();
        for (var i = 0; i < samples; i++)
        {
            await server.Manager.EnqueueAsync(new TaskRequest(ExternalType));
            var task = (await ClaimAsync(client, "bench-stop", 1, waitSeconds: 5)).Single();
            var heartbeat = client.PostAsync(
                new Uri($"/tasks/{task.Id}/heartbeat", UriKind.Relative), Json($$"""{"leaseToken": "{{task.LeaseToken}}", "leaseSeconds": 30, "waitSeconds": 10}"""));
            await Task.Delay(5);
            var start = Stopwatch.GetTimestamp();
            var stop = server.Manager.StopAsync(task.Id);
            using (var response = await heartbeat)
            {
                delivered.Add(Stopwatch.GetElapsedTime(start));
                Ensure(response, HttpStatusCode.OK);
                using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                if (!body.RootElement.GetProperty("stopRequested").GetBoolean())
                {
                    throw new InvalidOperationException("The heartbeat answered without the stop.");
                }
            }

            using (var fail = await client.PostAsync(new Uri($"/tasks/{task.Id}/fail", UriKind.Relative), Json($$"""{"leaseToken": "{{task.LeaseToken}}", "error": "stopped"}""")))
            {
                Ensure(fail, HttpStatusCode.OK);
            }

            var result = await stop;
            stopCall.Add(Stopwatch.GetElapsedTime(start));
            if (result.Outcome != StopOutcome.Cancelled)
            {
                throw new InvalidOperationException($"The stop ended {result.Outcome}.");
            }
        }

        return (delivered, stopCall);
    }

    private static async Task<IReadOnlyList<(long Id, string LeaseToken)>> ClaimAsync(HttpClient client, string worker, int max, double waitSeconds)
    {
        using var response = await client.PostAsync(
            new Uri("/workers/claim", UriKind.Relative),
            Json($$"""{"worker": "{{worker}}", "types": ["{{ExternalType}}"], "max": {{max}}, "waitSeconds": {{waitSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}}, "leaseSeconds": 120}"""));
        Ensure(response, HttpStatusCode.OK);
        using var body = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
        return [.. body.RootElement.GetProperty("tasks").EnumerateArray().Select(t => (t.GetProperty("id").GetInt64(), t.GetProperty("leaseToken").GetString()!))];
    }

    private static ByteArrayContent Json(string text)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return content;
    }

    private static void Ensure(HttpResponseMessage response, HttpStatusCode expected)
    {
        if (response.StatusCode != expected)
        {
            throw new InvalidOperationException($"Expected {(int)expected}, got {(int)response.StatusCode}: {response.Content.ReadAsStringAsync().GetAwaiter().GetResult()}");
        }
    }
}
