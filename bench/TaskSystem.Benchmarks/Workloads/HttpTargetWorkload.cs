using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace TaskSystem.Benchmarks.Workloads;

/// <summary>
/// http tasks against a local Kestrel receiver that answers 200 at once, 64 workers: N tasks enqueued up front, then
/// drained. Beside it, a bare HttpClient loop with 64 concurrent callers sending the same requests to the same receiver:
/// what the requests alone cost. The difference per task is what TaskSystem adds: the claim, the attempt's scope,
/// the result, the outcome's write (the enqueue, committed before the clock starts, is not counted).
/// </summary>
internal sealed class HttpTargetWorkload : IWorkload
{
    private const int Concurrency = 64;
    private const string Body = """{"user": 42, "event": "signed-up"}""";

    public string Name => "http-target";

    public string Description => $"http task throughput against a receiver answering 200 at once, {Concurrency} workers, beside a bare HttpClient loop";

    public async Task RunAsync(BenchContext context)
    {
        var count = context.Options.Size(20_000, 2_000);
        await using var receiver = await ReceiverAsync();
        var url = new Uri(receiver.Address, "hooks/bench");

        // Warm both paths (JIT, connections), as a server that has run for a while would be.
        await BareLoopAsync(url, count / 4);
        await TaskSystemDrainAsync(context, receiver.Address, url, count / 4, "http");

        var (bare, bareCpu) = await BareLoopAsync(url, count);
        var (ours, oursCpu) = await TaskSystemDrainAsync(context, receiver.Address, url, count, "http");
        var (noop, noopCpu) = await TaskSystemDrainAsync(context, receiver.Address, url, count, "noop");
        var report = context.Report;
        report.Add("http-target", $"bare HttpClient loop, {Concurrency} callers ({count})", bare, "requests/s");
        report.Add("http-target", $"TaskSystem http tasks, {Concurrency} workers ({count})", ours, "tasks/s");
        report.Add("http-target", "bare loop: wall time per request", 1e6 / bare, "µs");
        report.Add("http-target", "http tasks: wall time per task", 1e6 / ours, "µs");
        report.Add("http-target", "http tasks: overhead per task (wall)", (1e6 / ours) - (1e6 / bare), "µs");
        report.Add("http-target", "bare loop: CPU per request (receiver included)", bareCpu, "µs");
        report.Add("http-target", "http tasks: CPU per task (receiver included)", oursCpu, "µs");
        report.Add("http-target", $"no-op tasks, same payload, {Concurrency} workers ({count})", noop, "tasks/s");
        report.Add("http-target", "no-op tasks: CPU per task (the engine alone)", noopCpu, "µs");
        report.Ratio("http-target-64w", ours / bare, $"TaskSystem http tasks ÷ bare HttpClient loop, tasks/s, {Concurrency} at once");
        report.Ratio("http-target-cpu", oursCpu / bareCpu, "CPU per http task ÷ CPU per bare request (above 1 is TaskSystem's cost)");
    }

    /// <summary>Requests as the handler sends them (same method, body, headers), from 64 loops on one client.</summary>
    private static async Task<(double Rate, double CpuMicroseconds)> BareLoopAsync(Uri url, int count)
    {
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Concurrency, UseProxy = false, AllowAutoRedirect = false });
        var next = 0;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) <= count)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(Body, Encoding.UTF8, "application/json") };
                request.Headers.TryAddWithoutValidation("TaskSystem-Task-Id", "1");
                request.Headers.TryAddWithoutValidation("TaskSystem-Attempt", "1");
                request.Headers.TryAddWithoutValidation("Idempotency-Key", "1");
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                await response.Content.ReadAsByteArrayAsync();
                response.EnsureSuccessStatusCode();
            }
        })));
        var elapsed = clock.Elapsed;
        return (count / elapsed.TotalSeconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / count);
    }

    /// <summary>
    /// N tasks enqueued up front (batches of a thousand, one commit each), then a node with 64 workers drains them:
    /// http tasks, or no-op tasks with the same payload (what the engine costs without the request).
    /// </summary>
    private static async Task<(double Rate, double CpuMicroseconds)> TaskSystemDrainAsync(BenchContext context, Uri allowed, Uri url, int count, string type)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services
            .AddTaskSystem(o =>
            {
                o.ConnectionString = $"Data Source={Path.Combine(context.NewFolder(), "tasks.db")}";
                o.Concurrency = Concurrency;
                o.NodeName = "bench";
            })
            .AddHttpTargets(o =>
            {
                o.AllowedTargets.Add(allowed.AbsoluteUri);
                o.AllowPrivateNetworks = true;
                o.MaxConnectionsPerHost = Concurrency;
            })
            .AddHandler("noop", (_, _) => Task.CompletedTask);
        using var host = builder.Build();
        var manager = host.Services.GetRequiredService<TaskManager>();
        using var payload = JsonDocument.Parse($$"""{"url": "{{url}}", "body": {{Body}} }""");
        for (var done = 0; done < count; done += 1000)
        {
            var batch = Math.Min(1000, count - done);
            await manager.EnqueueManyAsync(Enumerable.Range(0, batch).Select(_ => new TaskRequest(type) { Payload = payload.RootElement }));
        }

        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await host.StartAsync();
        try
        {
            while (true)
            {
                var counts = await manager.CountByStateAsync();
                if (counts[TaskState.Failed] > 0)
                {
                    throw new InvalidOperationException($"{counts[TaskState.Failed]} {type} tasks failed in the benchmark.");
                }

                if (counts[TaskState.Succeeded] >= count)
                {
                    break;
                }

                await Task.Delay(5);
            }

            var elapsed = clock.Elapsed;
            return (count / elapsed.TotalSeconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / count);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    /// <summary>A Kestrel receiver on a loopback port that answers 200 with no body, reading nothing it need not.</summary>
    private static async Task<Receiver> ReceiverAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.Run(context =>
        {
            context.Response.StatusCode = 200;
            return Task.CompletedTask;
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new Receiver(app, new Uri(address.TrimEnd('/') + "/"));
    }

    private sealed record Receiver(WebApplication App, Uri Address) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
    }
}
