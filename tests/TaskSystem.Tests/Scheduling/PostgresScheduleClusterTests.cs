using Microsoft.Extensions.DependencyInjection;
using TaskSystem.Storage;
using TaskSystem.Tests.Support;
using Xunit.Abstractions;

namespace TaskSystem.Tests.Scheduling;

/// <summary>Three nodes on one PostgreSQL database, every one running the scheduler on the real clock: one task per tick.</summary>
public sealed class PostgresScheduleClusterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private string _connectionString = null!;

    public async Task InitializeAsync() => _connectionString = await PostgresDatabases.CreateAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private Task<EngineHost> StartNodeAsync(string node) =>
        PostgresEngineHosts.StartAsync(_connectionString, node, b => b.AddHandler("tick", (_, _) => Task.CompletedTask), o =>
        {
            // Every node declares the same schedule, as a deployment's configuration does.
            o.Schedules["pulse"] = new ScheduleOptions { Every = TimeSpan.FromSeconds(1), Type = "tick" };
        });

    private static async Task<List<TaskRecord>> TicksAsync(ITaskStore store) =>
        [.. (await store.TasksListAsync(new TasksListParams(null, "tick", null, null, 1000), CancellationToken.None))
            .Where(t => t.Schedule == "pulse").OrderBy(t => t.ScheduledFor)];

    [Fact]
    public async Task ThreeNodes_OneStoppedMidway_MakeExactlyOneTaskPerTick()
    {
        var nodes = new[] { await StartNodeAsync("a"), await StartNodeAsync("b"), await StartNodeAsync("c") };
        var store = nodes[0].Store;
        try
        {
            await Eventually.Until(() => TicksAsync(store), t => t.Count >= 8, TimeSpan.FromSeconds(30), "eight ticks on three nodes");
            await nodes[1].DisposeAsync();
            var ticks = await Eventually.Until(() => TicksAsync(store), t => t.Count >= 22, TimeSpan.FromSeconds(40), "22 ticks, on two nodes for the last ones");

            var times = ticks.Select(t => t.ScheduledFor!.Value).ToList();
            Assert.Equal(times.Count, times.Distinct().Count());
            Assert.All(times.Zip(times.Skip(1)), pair => Assert.Equal(TimeSpan.FromSeconds(1), pair.Second - pair.First));
            var delays = ticks.Select(t => (t.CreatedAt - t.ScheduledFor!.Value).TotalMilliseconds).Order().ToList();
            output.WriteLine($"{ticks.Count} ticks, delay from tick to task p50 {delays[delays.Count / 2]:0.0} ms, max {delays[^1]:0.0} ms");
        }
        finally
        {
            await nodes[0].DisposeAsync();
            await nodes[2].DisposeAsync();
        }
    }
}
