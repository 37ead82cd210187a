using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TaskSystem;

var n = args.Length > 0 ? int.Parse(args[0]) : 50000;
var workers = args.Length > 1 ? int.Parse(args[1]) : 5;
for (var round = 0; round < 2; round++)
{
    var count = round == 0 ? 5000 : n;
    var dir = Path.Combine(Path.GetTempPath(), "tsbench-" + Guid.NewGuid().ToString("N"));
    Directory.CreateDirectory(dir);
    var executed = 0;
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.Services.AddTaskSystem(o => { o.ConnectionString = $"Data Source={dir}/t.db"; o.Concurrency = workers; })
        .AddHandler("noop", (_, _) => { Interlocked.Increment(ref executed); return ValueTask.FromResult<JsonElement?>(null); });
    using var host = builder.Build();
    var manager = host.Services.GetRequiredService<TaskManager>();
    var sw = Stopwatch.StartNew();
    for (var i = 0; i < count; i += 1000)
    {
        await manager.EnqueueManyAsync(Enumerable.Range(0, Math.Min(1000, count - i)).Select(_ => new TaskRequest("noop")));
    }

    var enqueueRate = count / sw.Elapsed.TotalSeconds;
    var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
    sw.Restart();
    await host.StartAsync();
    while (Volatile.Read(ref executed) < count)
    {
        await Task.Delay(5);
    }

    var ran = sw.Elapsed;
    while ((await manager.CountByStateAsync())[TaskState.Succeeded] < count)
    {
        await Task.Delay(5);
    }

    var persisted = sw.Elapsed;
    var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
    if (round == 1)
    {
        Console.WriteLine($"enqueue {count} in batches: {enqueueRate:F0}/s");
        Console.WriteLine($"e2e {count} with {workers} workers: ran {count / ran.TotalSeconds:F0}/s, persisted {count / persisted.TotalSeconds:F0}/s, cpu {cpu.TotalMicroseconds / count:F1} us/task");
    }

    await host.StopAsync();
    Directory.Delete(dir, true);
}
