using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using TaskSystem.Benchmarks.Support;
using TaskSystem.Server;

namespace TaskSystem.Benchmarks.Workloads;

/// <summary>
/// POST /tasks on the real server pipeline, with 1, 16 and 64 keep-alive connections over loopback, beside an
/// endpoint on the same Kestrel that parses the same JSON body and answers 201 without storing anything: the ceiling.
/// </summary>
internal sealed class HttpWorkload : IWorkload
{
    /// <summary>A task scheduled far ahead: the server's workers stay idle and the durable enqueue path alone is measured.</summary>
    private const string Body = """{"type": "demo", "runAt": "2100-01-01T00:00:00Z", "payload": {"name": "Jean", "number": "42"}}""";

    public string Name => "http";

    public string Description => "POST /tasks throughput and latency over loopback, against an empty endpoint on the same Kestrel";

    public async Task RunAsync(BenchContext context)
    {
        var duration = context.Options.Duration(5, 0.5);
        await using var app = await BenchServer.StartAsync(context, mapExtra: app => app.MapPost("/empty", async (HttpRequest request) =>
        {
            using var body = await JsonDocument.ParseAsync(request.Body);
            return TypedResults.Created("/empty/1", new { id = 1, state = "queued" });
        }));
        var server = app.Endpoint;
        await HttpLoad.RunAsync(server, "/tasks", Body, 16, TimeSpan.FromSeconds(context.Options.Quick ? 0.3 : 1)); // warm-up
        await HttpLoad.RunAsync(server, "/empty", Body, 16, TimeSpan.FromSeconds(context.Options.Quick ? 0.3 : 1));
        foreach (var connections in new[] { 1, 16, 64 })
        {
            var ceiling = await HttpLoad.RunAsync(server, "/empty", Body, connections, duration);
            var ours = await HttpLoad.RunAsync(server, "/tasks", Body, connections, duration);
            Check(ours, 201);
            context.Report.Add("http", $"POST /tasks, {connections} connections", ours.Rate, "201s/s");
            ours.Latencies.Report(context.Report, "http", $"POST /tasks, {connections} connections");
            context.Report.Add("http", $"empty endpoint (ceiling), {connections} connections", ceiling.Rate, "201s/s");
            ceiling.Latencies.Report(context.Report, "http", $"empty endpoint, {connections} connections");
            context.Report.Ratio($"http-{connections}c", ours.Rate / ceiling.Rate, $"POST /tasks ÷ empty endpoint on the same Kestrel, {connections} connections");
        }

        await CrossCheckAsync(context, app, duration);
    }

    /// <summary>The 64-connection comparison again, loaded by wrk instead of our own generator.</summary>
    private static async Task CrossCheckAsync(BenchContext context, BenchServer app, TimeSpan duration)
    {
        const string Meaning = "POST /tasks ÷ empty endpoint on the same Kestrel, 64 connections, loaded by wrk";
        if (Wrk.Find() is not { } wrk)
        {
            context.Report.NotMeasured("http-wrk-64c", Meaning, "wrk is not installed: apt-get install wrk");
            return;
        }

        // wrk is another process, so this process's CPU time is the server's alone: its cost per request travels
        // between machines better than a rate does.
        var (ceiling, ceilingCpu) = await MeasuredAsync(() => Wrk.PostAsync(wrk, new Uri(app.Address, "/empty"), Body, 64, duration));
        var (ours, oursCpu) = await MeasuredAsync(() => Wrk.PostAsync(wrk, new Uri(app.Address, "/tasks"), Body, 64, duration));
        if (ours.NotSuccess > 0 || ceiling.NotSuccess > 0)
        {
            throw new InvalidOperationException($"wrk saw answers other than 2xx: {ours.NotSuccess} on /tasks, {ceiling.NotSuccess} on /empty.");
        }

        context.Report.Add("http", "POST /tasks, 64 connections, wrk", ours.Rate, "201s/s");
        context.Report.Add("http", "POST /tasks, 64 connections, wrk p50", ours.P50Ms, "ms");
        context.Report.Add("http", "POST /tasks, 64 connections, wrk p99", ours.P99Ms, "ms");
        context.Report.Add("http", "empty endpoint (ceiling), 64 connections, wrk", ceiling.Rate, "201s/s");
        context.Report.Add("http", "empty endpoint, 64 connections, wrk p99", ceiling.P99Ms, "ms");
        context.Report.Add("http", "POST /tasks, 64 connections, wrk: server CPU per request", oursCpu.TotalMicroseconds / ours.Requests, "µs");
        context.Report.Add("http", "empty endpoint, 64 connections, wrk: server CPU per request", ceilingCpu.TotalMicroseconds / ceiling.Requests, "µs");
        context.Report.Ratio("http-wrk-64c", ours.Rate / ceiling.Rate, Meaning);
    }

    private static async Task<(Wrk.Result Result, TimeSpan Cpu)> MeasuredAsync(Func<Task<Wrk.Result>> run)
    {
        var before = Process.GetCurrentProcess().TotalProcessorTime;
        var result = await run();
        return (result, Process.GetCurrentProcess().TotalProcessorTime - before);
    }

    private static void Check(HttpLoadResult result, int expected)
    {
        if (result.Statuses.Keys.Any(status => status != expected))
        {
            throw new InvalidOperationException($"Unexpected statuses: {string.Join(", ", result.Statuses.Select(s => $"{s.Key}×{s.Value}"))}");
        }
    }

}
