using System.Collections.Concurrent;
using System.Text.Json;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Engine;

/// <summary>How tasks get from the queue to the workers: order, results, failures, run-at (signals and concurrency are in <see cref="EngineContractTests"/>).</summary>
public sealed class DispatchTests
{
    [Fact]
    public async Task Tasks_RunInPriorityThenFifoOrder()
    {
        var order = new ConcurrentQueue<int>();
        await using var host = EngineHost.Create(
            b => b.AddHandler("t", (ctx, _) => { order.Enqueue(ctx.Payload.GetProperty("i").GetInt32()); return Task.CompletedTask; }),
            o => o.Concurrency = 1);
        int[] priorities = [5, 0, 5, -1, 0, 5];
        var tasks = await host.Manager.EnqueueManyAsync(priorities.Select((p, i) =>
            new TaskRequest("t") { Payload = JsonSerializer.SerializeToElement(new { i }), Priority = p }));

        await host.Host.StartAsync();
        await Eventually.Until(() => order.Count == priorities.Length);

        Assert.Equal([3, 1, 4, 0, 2, 5], order);
    }

    [Fact]
    public async Task Handler_ReturningJson_StoresItAsTheResult()
    {
        await using var host = await EngineHost.StartAsync(b => b.AddHandler("t", (ctx, _) =>
            ValueTask.FromResult<JsonElement?>(JsonSerializer.SerializeToElement(new { echo = ctx.Payload.GetProperty("x").GetInt32() + 1, attempt = ctx.Attempt }))));

        var task = await host.EnqueueAsync("t", new { x = 41 });
        var done = await host.WaitForStateAsync(task.Id, TaskState.Succeeded);

        Assert.Equal(42, done.Result!.Value.GetProperty("echo").GetInt32());
        Assert.Equal(1, done.Result!.Value.GetProperty("attempt").GetInt32());
        Assert.Equal(("test-node", 1), (done.Node, done.Attempt));
        Assert.NotNull(done.StartedAt);
        Assert.NotNull(done.FinishedAt);
    }

    [Fact]
    public async Task ThrowingHandler_FailsItsTask_AndTheWorkerGoesOn()
    {
        await using var host = await EngineHost.StartAsync(
            b => b.AddHandler("boom", (_, _) => Task.FromException(new InvalidOperationException("kaput")))
                  .AddHandler("ok", (_, _) => Task.CompletedTask),
            o => o.Concurrency = 1);

        var bad = await host.EnqueueAsync("boom", change: r => r with { MaxAttempts = 1 });
        var good = await host.EnqueueAsync("ok");

        var failed = await host.WaitForStateAsync(bad.Id, TaskState.Failed);
        await host.WaitForStateAsync(good.Id, TaskState.Succeeded);
        Assert.Equal("InvalidOperationException: kaput", failed.Error);
    }

    [Fact]
    public async Task HandlerReturningAResultItAlreadyDisposed_FailsItsTask_AndTheWorkerGoesOn()
    {
        await using var host = await EngineHost.StartAsync(
            b => b.AddHandler("bad", (_, _) =>
                {
                    using var document = JsonDocument.Parse("""{"x": 1}""");
                    return ValueTask.FromResult<JsonElement?>(document.RootElement);
                })
                .AddHandler("ok", (_, _) => Task.CompletedTask),
            o => o.Concurrency = 1);

        var bad = await host.EnqueueAsync("bad", change: r => r with { MaxAttempts = 1 });
        var next = await host.EnqueueAsync("ok");

        var failed = await host.WaitForStateAsync(bad.Id, TaskState.Failed);
        await host.WaitForStateAsync(next.Id, TaskState.Succeeded);
        Assert.Contains("ObjectDisposedException", failed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandlerReturningAResultOverTheLimits_FailsWithAMessage()
    {
        await using var host = await EngineHost.StartAsync(
            b => b.AddHandler("big", (_, _) => ValueTask.FromResult<JsonElement?>(JsonSerializer.SerializeToElement(new { blob = new string('x', 5000) }))),
            o => o.MaxPayloadBytes = 1000);

        var task = await host.EnqueueAsync("big", change: r => r with { MaxAttempts = 1 });

        var failed = await host.WaitForStateAsync(task.Id, TaskState.Failed);
        Assert.Contains("result was refused", failed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScheduledTask_WaitsForItsRunAt()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var runs = 0;
        await using var host = await EngineHost.StartAsync(b => b.AddHandler("t", (_, _) => { Interlocked.Increment(ref runs); return Task.CompletedTask; }), time: time);

        var task = await host.EnqueueAsync("t", change: r => r with { RunAt = time.GetUtcNow().AddMinutes(1) });
        Assert.Equal(TaskState.Scheduled, task.State);
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(TaskState.Scheduled, (await host.Manager.GetAsync(task.Id))!.State);

        time.Advance(TimeSpan.FromSeconds(2));

        await host.WaitForStateAsync(task.Id, TaskState.Succeeded);
        Assert.Equal(1, runs);
    }
}
