using System.Net.Http.Json;
using System.Text.Json;
using TaskSystem.Cluster.Tests.Support;
using TaskSystem.TestSupport;
using Xunit.Abstractions;
using static TaskSystem.Cluster.Tests.Support.TaskApi;

namespace TaskSystem.Cluster.Tests;

/// <summary>
/// Three server processes on one PostgreSQL database, each declaring the same one-second schedule in its
/// configuration, as a deployment does: every node fires every tick, the database lets one task per tick through,
/// and a node killed with SIGKILL mid-run (perhaps inside a firing transaction) neither doubles nor loses a tick.
/// </summary>
public sealed class ScheduleClusterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Schedule = "pulse";
    private readonly List<ServerProcess> _nodes = [];

    private sealed record TickTask(long Id, string State, string? Schedule, DateTimeOffset? ScheduledFor, DateTimeOffset CreatedAt);

    private sealed record TickList(List<TickTask> Tasks, string? NextCursor);

    public async Task InitializeAsync()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync();
        string[] schedule =
        [
            $"--TaskSystem:Schedules:{Schedule}:Every", "00:00:01",
            $"--TaskSystem:Schedules:{Schedule}:Type", "demo",
            $"--TaskSystem:Schedules:{Schedule}:Payload", """{"durationMs": 0}""",
        ];
        _nodes.AddRange(await Task.WhenAll(
            ServerNodeProcess.StartAsync("node1", database, schedule),
            ServerNodeProcess.StartAsync("node2", database, schedule),
            ServerNodeProcess.StartAsync("node3", database, schedule)));
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }

    private static async Task<List<TickTask>> TicksAsync(HttpClient http)
    {
        var all = new List<TickTask>();
        string? cursor = null;
        do
        {
            var page = (await http.GetFromJsonAsync<TickList>("/tasks?state=all&type=demo&limit=1000" + (cursor is null ? "" : $"&cursor={cursor}"), JsonSerializerOptions.Web))!;
            all.AddRange(page.Tasks.Where(t => t.Schedule == Schedule));
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        return [.. all.OrderBy(t => t.ScheduledFor)];
    }

    [Fact]
    public async Task ThreeNodes_OneKilledMidRun_MakeExactlyOneTaskPerTick_NoneDoubledNoneLost()
    {
        var survivor = _nodes[0].Http;
        var before = await EventuallyAsync(() => TicksAsync(survivor), t => t.Count >= 6, TimeSpan.FromSeconds(30), "six ticks on three nodes");

        var victim = _nodes[1];
        await victim.KillAsync();
        Assert.True(victim.HasExited);
        var killedAt = DateTimeOffset.UtcNow;

        // At least 14 more ticks after the kill, on the two nodes left: 20 or more in all.
        var ticks = await EventuallyAsync(() => TicksAsync(survivor), t => t.Count >= before.Count + 14 && t.Count >= 20,
            TimeSpan.FromSeconds(40), "at least 14 ticks after the kill");

        var times = ticks.Select(t => t.ScheduledFor!.Value).ToList();
        Assert.Equal(times.Count, times.Distinct().Count());
        Assert.All(times.Zip(times.Skip(1)), pair => Assert.Equal(TimeSpan.FromSeconds(1), pair.Second - pair.First));
        Assert.Contains(times, t => t > killedAt);
        var delays = ticks.Select(t => (t.CreatedAt - t.ScheduledFor!.Value).TotalMilliseconds).Order().ToList();
        output.WriteLine($"{ticks.Count} ticks ({ticks.Count - before.Count} after the kill), tick to task p50 {delays[delays.Count / 2]:0.0} ms, max {delays[^1]:0.0} ms");
    }
}
