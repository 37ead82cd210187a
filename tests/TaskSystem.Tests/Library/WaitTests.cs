using Microsoft.Extensions.Time.Testing;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Library;

/// <summary>
/// WaitAsync: the outcome's signal ends the wait on this node, without waiting for a poll; a task another node
/// finishes is seen at this node's next read, every PollInterval (docs/embedding.md, "Waiting for a task").
/// </summary>
public sealed class WaitTests
{
    [Fact]
    public async Task Wait_EndsWhenTheTaskFinishesHere_LongBeforeThePollInterval()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await EngineHost.StartAsync(
            b => b.AddHandler("gate", async (_, ct) => await release.Task.WaitAsync(ct)),
            o => o.PollInterval = TimeSpan.FromMinutes(10));
        var task = await host.EnqueueAsync("gate");
        await host.WaitForStateAsync(task.Id, TaskState.Running);

        var waiting = host.Manager.WaitAsync(task.Id);
        release.SetResult();
        var done = await waiting.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(TaskState.Succeeded, done!.State);
    }

    [Fact]
    public async Task Wait_StoppedWaitingTask_EndsAtOnce_UnknownIdIsNull_CancellationThrows()
    {
        await using var host = await EngineHost.StartAsync(b => b.AddTaskType("later"), o => o.PollInterval = TimeSpan.FromMinutes(10));
        var task = await host.EnqueueAsync("later");
        var waiting = host.Manager.WaitAsync(task.Id);
        using var cancel = new CancellationTokenSource();
        var cancelled = host.Manager.WaitAsync(task.Id, cancel.Token);

        await host.Manager.StopAsync(task.Id);
        await cancel.CancelAsync();

        Assert.Equal(TaskState.Cancelled, (await waiting.WaitAsync(TimeSpan.FromSeconds(10)))!.State);
        Assert.Null(await host.Manager.WaitAsync(987654));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
    }

    [Fact]
    public async Task Wait_ForATaskAnotherNodeFinishes_EndsAtThisNodesNextPoll()
    {
        var database = await PostgresDatabases.CreateAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // The waiting node's clock moves only when the test says, so a real second never passes for it.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var waiter = await PostgresEngineHosts.StartAsync(database, "waiter", b => b.AddTaskType("remote"), o => o.PollInterval = TimeSpan.FromSeconds(1), time);
        await using var runner = await PostgresEngineHosts.StartAsync(database, "runner", b => b.AddHandler("remote", async (_, ct) => await release.Task.WaitAsync(ct)));
        var task = await runner.EnqueueAsync("remote");
        await runner.WaitForStateAsync(task.Id, TaskState.Running);

        var waiting = waiter.Manager.WaitAsync(task.Id);
        release.SetResult();
        await runner.WaitForStateAsync(task.Id, TaskState.Succeeded);
        // No signal crosses to this node: its reads, one per PollInterval of its clock, end the wait.
        await time.AdvanceUntilAsync(TimeSpan.FromSeconds(1), () => waiting.IsCompleted, because: "the waiting node should read the outcome at a poll");
        var done = await waiting;

        Assert.Equal((TaskState.Succeeded, "runner"), (done!.State, done.Node));
    }
}
