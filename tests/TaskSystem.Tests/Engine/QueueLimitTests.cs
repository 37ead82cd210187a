using Microsoft.Extensions.Options;
using TaskSystem.Engine;
using TaskSystem.Storage;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Engine;

/// <summary>TaskSystem:MaxQueued: past the cap an enqueue is refused, and nothing already accepted is touched.</summary>
public sealed class QueueLimitTests
{
    [Fact]
    public async Task Enqueue_PastMaxQueued_IsRefused_StoresNothing_AndRoomComesBackAfterARefresh()
    {
        await using var host = await EngineHost.StartAsync(
            b => b.AddHandler("t", (_, _) => Task.CompletedTask),
            o => { o.MaxQueued = 3; o.CountsRefreshInterval = TimeSpan.FromMilliseconds(50); });
        var later = DateTimeOffset.UtcNow.AddHours(1);
        var accepted = new List<TaskInfo>();
        for (var i = 0; i < 3; i++)
        {
            accepted.Add(await host.EnqueueAsync("t", change: r => r with { RunAt = later }));
        }

        var full = await Assert.ThrowsAsync<TaskQueueFullException>(() => host.EnqueueAsync("t"));
        await Assert.ThrowsAsync<TaskQueueFullException>(() => host.Manager.EnqueueManyAsync([new TaskRequest("t"), new TaskRequest("t")]));

        Assert.Contains("TaskSystem:MaxQueued is 3", full.Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromMilliseconds(50), full.RetryAfter);
        Assert.Equal(3L, (await host.Manager.CountByStateAsync())[TaskState.Scheduled]);
        Assert.Equal(0L, (await host.Manager.CountByStateAsync())[TaskState.Queued]);
        foreach (var task in accepted)
        {
            Assert.Equal(TaskState.Scheduled, (await host.Manager.GetAsync(task.Id))!.State);
        }

        await host.Manager.StopAsync(accepted[0].Id);
        var admitted = await Eventually.Until(async () =>
        {
            try
            {
                return await host.EnqueueAsync("t", change: r => r with { RunAt = later });
            }
            catch (TaskQueueFullException)
            {
                return null;
            }
        }, task => task is not null, because: "the next count to see the room a stop made");
        Assert.Equal(TaskState.Scheduled, admitted!.State);
    }

    [Fact]
    public async Task MaxQueued_Zero_MeansNoCap()
    {
        await using var host = await EngineHost.StartAsync(b => b.AddHandler("t", (_, _) => Task.CompletedTask), o => o.Concurrency = 1);

        var tasks = await host.Manager.EnqueueManyAsync(Enumerable.Range(0, 200).Select(_ => new TaskRequest("t") { RunAt = DateTimeOffset.UtcNow.AddHours(1) }));

        Assert.Equal(200, tasks.Count);
    }

    [Fact]
    public void QueueCounts_CountTasksCommittedSinceTheLastRefresh_AndThoseInFlight_NeverUndercounting()
    {
        var counts = new QueueCounts(maxQueued: 10);
        Assert.True(counts.TryReserve(5));
        counts.Commit(5);
        Assert.True(counts.TryReserve(2));
        var before = counts.CommittedSinceRefresh;

        // The count ran while the 2 were still being inserted: it sees the 5 (and 1 that was there), not the 2.
        counts.Update([new QueueStateCount("q", TaskState.Queued, 6), new QueueStateCount("q", TaskState.Running, 40)], before);

        Assert.Equal(8, counts.Waiting);
        counts.Commit(2);
        Assert.Equal(8, counts.Waiting);
        Assert.True(counts.TryReserve(2));
        Assert.False(counts.TryReserve(1));
        counts.Unreserve(2);
        Assert.Equal(8, counts.Waiting);

        // A later count sees them all: nothing is counted twice any more.
        counts.Update([new QueueStateCount("q", TaskState.Queued, 8)], counts.CommittedSinceRefresh);
        Assert.Equal(8, counts.Waiting);
    }

    [Fact]
    public void QueueCounts_Observe_ReportsEveryUnfinishedState_AndZerosForADrainedQueue()
    {
        var counts = new QueueCounts(maxQueued: 0);
        counts.Update([new QueueStateCount("a", TaskState.Queued, 4), new QueueStateCount("b", TaskState.Running, 1)], 0);
        counts.Update([new QueueStateCount("a", TaskState.Scheduled, 2)], 0);

        Assert.Equal(
            [new("a", TaskState.Awaiting, 0), new("a", TaskState.Queued, 0), new("a", TaskState.Scheduled, 2), new("a", TaskState.Running, 0),
             new("b", TaskState.Awaiting, 0), new("b", TaskState.Queued, 0), new("b", TaskState.Scheduled, 0), new("b", TaskState.Running, 0)],
            counts.Observe().ToList());
        Assert.True(counts.TryReserve(1_000_000));
    }

    [Fact]
    public void InvalidHousekeepingSettings_FailTheStart_NamingThem()
    {
        var error = Assert.Throws<OptionsValidationException>(() => EngineHost.Create(b => b.AddHandler("t", (_, _) => Task.CompletedTask), o =>
        {
            o.Retention = TimeSpan.Zero;
            o.RetentionBatchSize = 0;
            o.MaxQueued = -1;
            o.CountsRefreshInterval = TimeSpan.FromSeconds(-1);
            o.RetentionInterval = TimeSpan.Zero;
        }));

        foreach (var setting in new[] { "Retention", "RetentionBatchSize", "MaxQueued", "CountsRefreshInterval", "RetentionInterval" })
        {
            Assert.Contains(error.Failures, f => f.StartsWith($"TaskSystem:{setting} must", StringComparison.Ordinal));
        }
    }
}
