using Microsoft.Extensions.DependencyInjection;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Library;

/// <summary>Per-type defaults, and types declared without a handler (producer-only apps).</summary>
public sealed class TaskTypeTests
{
    [Fact]
    public async Task TypeDefaults_ApplyWhenTheRequestSaysNothing_AndTheRequestWins()
    {
        await using var host = await EngineHost.StartAsync(b => b.AddTaskType("report", o =>
        {
            o.Queue = "reports";
            o.Priority = -5;
            o.MaxAttempts = 7;
            o.Timeout = TimeSpan.FromMinutes(2);
        }));

        var defaulted = await host.Manager.EnqueueAsync(new TaskRequest("report"));
        var own = await host.Manager.EnqueueAsync(new TaskRequest("report") { Queue = "urgent", MaxAttempts = 1 });

        Assert.Equal(("reports", -5, 7, TimeSpan.FromMinutes(2)), (defaulted.Queue, defaulted.Priority, defaulted.MaxAttempts, defaulted.Timeout));
        Assert.Equal(("urgent", -5, 1), (own.Queue, own.Priority, own.MaxAttempts));
    }

    [Fact]
    public async Task TypeRetryDelays_OverrideTheNodes()
    {
        await using var host = await EngineHost.StartAsync(b => b
            .AddHandler("slow-retry", (_, _) => Task.FromException(new TaskFailedException("no")), o => o.RetryBaseDelay = TimeSpan.FromHours(1)));

        var slow = await host.EnqueueAsync("slow-retry");
        var scheduled = await host.WaitForStateAsync(slow.Id, TaskState.Scheduled);

        // Base delay one hour, jittered down by up to a half (the node's own delays are 20 to 100 ms).
        var delay = scheduled.RunAt - scheduled.Errors[0].At;
        Assert.InRange(delay, TimeSpan.FromMinutes(30) - TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(90));
    }

    [Fact]
    public void TypeDefaults_Invalid_FailAtRegistrationNamingTypeAndSetting()
    {
        var services = new ServiceCollection();

        var error = Assert.Throws<ArgumentException>(() => services.AddTaskSystem().AddTaskType("report", o => o.MaxAttempts = 0));

        Assert.Contains("'report'", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxAttempts", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeclaredType_IsAcceptedButNeverClaimedHere_UnknownTypesStillRefused()
    {
        await using var host = await EngineHost.StartAsync(b => b
            .AddHandler("local", (_, _) => Task.CompletedTask)
            .AddTaskType("elsewhere"));

        var declared = await host.EnqueueAsync("elsewhere");
        var local = await host.EnqueueAsync("local");
        await host.WaitForStateAsync(local.Id, TaskState.Succeeded);
        var unknown = await Assert.ThrowsAsync<TaskValidationException>(() => host.EnqueueAsync("nobody"));

        Assert.Equal(TaskState.Queued, (await host.Manager.GetAsync(declared.Id))!.State);
        Assert.Equal(["elsewhere", "local"], host.Manager.TaskTypes);
        Assert.Equal(["local"], host.Manager.HandlerTypes);
        Assert.Contains("elsewhere, local", unknown.Message, StringComparison.Ordinal);
    }
}
