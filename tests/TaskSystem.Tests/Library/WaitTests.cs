using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Library;

/// <summary>WaitAsync: the outcome's signal ends the wait on this node, without waiting for a poll.</summary>
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
}
