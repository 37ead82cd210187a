using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using TaskSystem.Engine;
using TaskSystem.Scheduling;
using TaskSystem.Storage;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Scheduling;

/// <summary>
/// The scheduler's rules on a fake clock, one firing at a time: the host is built but not started, so nothing
/// runs the tasks or fires ticks behind the test's back.
/// </summary>
public sealed class ScheduleRunnerTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 12, 0, 0, 500, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(T0);
    private EngineHost _host = null!;

    private Schedules Schedules => _host.Host.Services.GetRequiredService<Schedules>();

    private ScheduleRunner Runner => _host.Host.Services.GetRequiredService<ScheduleRunner>();

    private ITaskStore Store => _host.Store;

    public async Task InitializeAsync()
    {
        _host = EngineHost.Create(b => b.AddHandler("report", (_, _) => Task.CompletedTask), time: _time);
        await Store.MigrateAsync(CancellationToken.None);
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<IReadOnlyList<TaskRecord>> ScheduledTasksAsync(string schedule) =>
        [.. (await Store.TasksListAsync(new TasksListParams(null, null, null, null, 1000), CancellationToken.None))
            .Where(t => t.Schedule == schedule).OrderBy(t => t.ScheduledFor)];

    private async Task FireAtAsync(DateTimeOffset at)
    {
        _time.SetUtcNow(at);
        await Runner.FireDueAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Every_EnqueuesOneTaskPerTick_RecordingScheduleAndTick()
    {
        await Schedules.PutAsync("pulse", new ScheduleOptions { Every = TimeSpan.FromSeconds(10), Type = "report", Payload = """{"a":1}""", Queue = "reports" }, CancellationToken.None);
        var ticks = Enumerable.Range(1, 3).Select(i => new DateTimeOffset(2030, 1, 1, 12, 0, 10 * i, TimeSpan.Zero)).ToList();

        foreach (var tick in ticks)
        {
            await FireAtAsync(tick.AddMilliseconds(3));
            await Runner.FireDueAsync(CancellationToken.None);
        }

        var tasks = await ScheduledTasksAsync("pulse");
        Assert.Equal(ticks, tasks.Select(t => t.ScheduledFor!.Value));
        Assert.All(tasks, t => Assert.Equal(("report", "reports", """{"a":1}"""), (t.Type, t.Queue, t.PayloadJson)));
        var schedule = (await Schedules.GetAsync("pulse", CancellationToken.None))!;
        Assert.Equal((ticks[2], ticks[2].AddSeconds(10), tasks[2].Id), (schedule.LastRunAt, schedule.NextRunAt, schedule.LastTaskId));
    }

    [Fact]
    public async Task FireDue_ReturnsTheTimeUntilTheNextTick_SoTheTimerWakesOnIt()
    {
        await Schedules.PutAsync("pulse", new ScheduleOptions { Every = TimeSpan.FromSeconds(10), Type = "report" }, CancellationToken.None);

        var wait = await Runner.FireDueAsync(CancellationToken.None);

        Assert.Equal(TimeSpan.FromSeconds(9.5), wait);
        Assert.Empty(await ScheduledTasksAsync("pulse"));
    }

    [Fact]
    public async Task Cron_InATimeZone_FollowsTheWallClockAcrossADaylightSavingChange()
    {
        // Europe/Paris moves from UTC+1 to UTC+2 on 31 March 2030: 09:00 local is 08:00Z before and 07:00Z after.
        _time.SetUtcNow(new DateTimeOffset(2030, 3, 29, 12, 0, 0, TimeSpan.Zero));
        await Schedules.PutAsync("morning", new ScheduleOptions { Cron = "0 9 * * *", TimeZone = "Europe/Paris", Type = "report" }, CancellationToken.None);
        DateTimeOffset[] expected =
        [
            new(2030, 3, 30, 8, 0, 0, TimeSpan.Zero),
            new(2030, 3, 31, 7, 0, 0, TimeSpan.Zero),
            new(2030, 4, 1, 7, 0, 0, TimeSpan.Zero),
        ];

        foreach (var tick in expected)
        {
            Assert.Equal(tick, (await Schedules.GetAsync("morning", CancellationToken.None))!.NextRunAt);
            await FireAtAsync(tick);
        }

        Assert.Equal(expected, (await ScheduledTasksAsync("morning")).Select(t => t.ScheduledFor!.Value));
    }

    [Fact]
    public async Task Cron_WithSixFields_TicksOnSeconds()
    {
        await Schedules.PutAsync("fast", new ScheduleOptions { Cron = "*/15 * * * * *", Type = "report" }, CancellationToken.None);

        Assert.Equal(new DateTimeOffset(2030, 1, 1, 12, 0, 15, TimeSpan.Zero), (await Schedules.GetAsync("fast", CancellationToken.None))!.NextRunAt);
    }

    [Fact]
    public async Task Misfire_Skip_DropsTicksMissedWhileNoNodeRan_AndGoesOnFromTheNext()
    {
        await Schedules.PutAsync("m", new ScheduleOptions { Every = TimeSpan.FromMinutes(10), Type = "report", Misfire = ScheduleMisfire.Skip }, CancellationToken.None);
        await FireAtAsync(new DateTimeOffset(2030, 1, 1, 12, 10, 0, TimeSpan.Zero));

        // Down from just after 12:10 to 12:35: the ticks of 12:20 and 12:30 were missed (the latest by 5 minutes).
        await FireAtAsync(new DateTimeOffset(2030, 1, 1, 12, 35, 0, TimeSpan.Zero));

        Assert.Single(await ScheduledTasksAsync("m"));
        Assert.Equal(new DateTimeOffset(2030, 1, 1, 12, 40, 0, TimeSpan.Zero), (await Schedules.GetAsync("m", CancellationToken.None))!.NextRunAt);
        await FireAtAsync(new DateTimeOffset(2030, 1, 1, 12, 40, 0, TimeSpan.Zero));
        Assert.Equal(2, (await ScheduledTasksAsync("m")).Count);
    }

    [Fact]
    public async Task Misfire_Skip_StillFiresATickThatIsOnlyALittleLate()
    {
        await Schedules.PutAsync("m", new ScheduleOptions { Every = TimeSpan.FromMinutes(10), Type = "report" }, CancellationToken.None);

        await FireAtAsync(new DateTimeOffset(2030, 1, 1, 12, 10, 40, TimeSpan.Zero));

        Assert.Equal(new DateTimeOffset(2030, 1, 1, 12, 10, 0, TimeSpan.Zero), Assert.Single(await ScheduledTasksAsync("m")).ScheduledFor);
    }

    [Fact]
    public async Task Misfire_RunOnce_MakesOneTaskForAllMissedTicks_ForTheLatest()
    {
        await Schedules.PutAsync("m", new ScheduleOptions { Every = TimeSpan.FromMinutes(10), Type = "report", Misfire = ScheduleMisfire.RunOnce }, CancellationToken.None);

        await FireAtAsync(new DateTimeOffset(2030, 1, 1, 12, 35, 0, TimeSpan.Zero));

        var task = Assert.Single(await ScheduledTasksAsync("m"));
        Assert.Equal(new DateTimeOffset(2030, 1, 1, 12, 30, 0, TimeSpan.Zero), task.ScheduledFor);
        Assert.Equal(new DateTimeOffset(2030, 1, 1, 12, 40, 0, TimeSpan.Zero), (await Schedules.GetAsync("m", CancellationToken.None))!.NextRunAt);
    }

    [Fact]
    public async Task Overlap_Skip_MakesNoTaskWhileThePreviousIsUnfinished()
    {
        await Schedules.PutAsync("o", new ScheduleOptions { Every = TimeSpan.FromMinutes(1), Type = "report", Overlap = ScheduleOverlap.Skip }, CancellationToken.None);
        await FireAtAsync(new DateTimeOffset(2030, 1, 1, 12, 1, 0, TimeSpan.Zero));
        var first = Assert.Single(await ScheduledTasksAsync("o"));

        await FireAtAsync(new DateTimeOffset(2030, 1, 1, 12, 2, 0, TimeSpan.Zero));
        Assert.Single(await ScheduledTasksAsync("o"));

        await Store.TaskCancelAsync(new TaskCancelParams(first.Id, _time.GetUtcNow()), CancellationToken.None);
        await FireAtAsync(new DateTimeOffset(2030, 1, 1, 12, 3, 0, TimeSpan.Zero));
        Assert.Equal(
            [new DateTimeOffset(2030, 1, 1, 12, 1, 0, TimeSpan.Zero), new DateTimeOffset(2030, 1, 1, 12, 3, 0, TimeSpan.Zero)],
            (await ScheduledTasksAsync("o")).Select(t => t.ScheduledFor!.Value));
    }

    [Fact]
    public async Task Overlap_Allow_EnqueuesEvenWhileThePreviousIsUnfinished()
    {
        await Schedules.PutAsync("o", new ScheduleOptions { Every = TimeSpan.FromMinutes(1), Type = "report" }, CancellationToken.None);

        await FireAtAsync(new DateTimeOffset(2030, 1, 1, 12, 1, 0, TimeSpan.Zero));
        await FireAtAsync(new DateTimeOffset(2030, 1, 1, 12, 2, 0, TimeSpan.Zero));

        Assert.Equal(2, (await ScheduledTasksAsync("o")).Count);
    }

    [Fact]
    public async Task Pause_FiresNothing_AndResumeGoesOnFromTheNextTickWithoutMakingUp()
    {
        await Schedules.PutAsync("p", new ScheduleOptions { Every = TimeSpan.FromMinutes(1), Type = "report" }, CancellationToken.None);
        Assert.True((await Schedules.PauseAsync("p", paused: true, CancellationToken.None))!.Paused);

        await FireAtAsync(new DateTimeOffset(2030, 1, 1, 12, 5, 10, TimeSpan.Zero));
        Assert.Empty(await ScheduledTasksAsync("p"));

        var resumed = (await Schedules.PauseAsync("p", paused: false, CancellationToken.None))!;
        Assert.Equal(new DateTimeOffset(2030, 1, 1, 12, 6, 0, TimeSpan.Zero), resumed.NextRunAt);
        await FireAtAsync(new DateTimeOffset(2030, 1, 1, 12, 6, 0, TimeSpan.Zero));
        Assert.Equal(new DateTimeOffset(2030, 1, 1, 12, 6, 0, TimeSpan.Zero), Assert.Single(await ScheduledTasksAsync("p")).ScheduledFor);
    }

    [Fact]
    public async Task Put_AgainWithTheSameTiming_KeepsTheTickItWaitsFor_SoARestartLosesNothing()
    {
        var options = new ScheduleOptions { Every = TimeSpan.FromMinutes(1), Type = "report" };
        await Schedules.PutAsync("r", options, CancellationToken.None);
        _time.SetUtcNow(new DateTimeOffset(2030, 1, 1, 12, 1, 20, TimeSpan.Zero));

        var again = await Schedules.PutAsync("r", options, CancellationToken.None);
        var retimed = await Schedules.PutAsync("r", new ScheduleOptions { Every = TimeSpan.FromMinutes(5), Type = "report" }, CancellationToken.None);

        Assert.Equal(new DateTimeOffset(2030, 1, 1, 12, 1, 0, TimeSpan.Zero), again.NextRunAt);
        Assert.Equal(new DateTimeOffset(2030, 1, 1, 12, 5, 0, TimeSpan.Zero), retimed.NextRunAt);
    }

    [Fact]
    public async Task Trigger_EnqueuesNow_RecordingTheSchedule_EvenWhenPaused()
    {
        await Schedules.PutAsync("t", new ScheduleOptions { Cron = "0 3 * * *", Type = "report", Paused = true }, CancellationToken.None);

        var task = (await Schedules.TriggerAsync("t", CancellationToken.None))!;

        Assert.Equal(("t", T0), (task.Schedule, task.ScheduledFor));
        Assert.Null(await Schedules.TriggerAsync("missing", CancellationToken.None));
    }

    [Fact]
    public async Task TwoRunnersFiringOneTick_MakeOneTask()
    {
        await Schedules.PutAsync("race", new ScheduleOptions { Every = TimeSpan.FromSeconds(1), Type = "report" }, CancellationToken.None);
        _time.SetUtcNow(T0.AddSeconds(1));

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Runner.FireDueAsync(CancellationToken.None)));

        Assert.Single(await ScheduledTasksAsync("race"));
    }

    [Fact]
    public async Task MaxQueued_Full_SkipsTheTick_MovesOn_RefusesRunNow_AndTheNextTickWithRoomMakesATask()
    {
        await using var host = EngineHost.Create(b => b.AddHandler("report", (_, _) => Task.CompletedTask), o => o.MaxQueued = 2, _time);
        await host.Store.MigrateAsync(CancellationToken.None);
        var schedules = host.Host.Services.GetRequiredService<Schedules>();
        var runner = host.Host.Services.GetRequiredService<ScheduleRunner>();
        var counts = host.Host.Services.GetRequiredService<QueueCounts>();
        await schedules.PutAsync("full", new ScheduleOptions { Every = TimeSpan.FromSeconds(10), Type = "report" }, CancellationToken.None);
        var tick = (DateTimeOffset at) => { _time.SetUtcNow(at.AddMilliseconds(3)); return runner.FireDueAsync(CancellationToken.None); };
        var ticks = Enumerable.Range(1, 4).Select(i => new DateTimeOffset(2030, 1, 1, 12, 0, 10 * i, TimeSpan.Zero)).ToList();

        await tick(ticks[0]);
        await tick(ticks[1]);
        await tick(ticks[2]);

        // Two tasks wait (nothing runs them here): the third tick finds the queue full and goes by without a task.
        var made = (await host.Store.TasksListAsync(new TasksListParams(null, null, null, null, 100), CancellationToken.None)).Where(t => t.Schedule == "full").ToList();
        Assert.Equal(ticks[..2], made.Select(t => t.ScheduledFor!.Value).Order());
        var schedule = (await schedules.GetAsync("full", CancellationToken.None))!;
        Assert.Equal((ticks[2], ticks[3]), (schedule.LastRunAt, schedule.NextRunAt));
        await Assert.ThrowsAsync<TaskQueueFullException>(() => schedules.TriggerAsync("full", CancellationToken.None));
        Assert.Equal(2, (await host.Store.TasksListAsync(new TasksListParams(null, null, null, null, 100), CancellationToken.None)).Count);

        // The waiting tasks are stopped, and the next count of the queue sees it: the next tick has room again.
        foreach (var task in made)
        {
            await host.Manager.StopAsync(task.Id);
        }

        var committedBefore = counts.CommittedSinceRefresh;
        counts.Update(await host.Store.TasksCountUnfinishedAsync(CancellationToken.None), committedBefore);
        await tick(ticks[3]);

        var waiting = (await host.Store.TasksListAsync(new TasksListParams(null, null, null, null, 100), CancellationToken.None)).Where(t => t.State == TaskState.Queued);
        Assert.Equal(ticks[3], Assert.Single(waiting).ScheduledFor);
    }

    [Theory]
    [InlineData("bad name!", "0 3 * * *", null, null, "report", "name")]
    [InlineData("s", "not cron", null, null, "report", "cron")]
    [InlineData("s", "0 3 * *", null, null, "report", "cron")]
    [InlineData("s", "0 3 * * *", "Mars/Olympus", null, "report", "timeZone")]
    [InlineData("s", null, null, 0.5, "report", "every")]
    [InlineData("s", null, null, null, "report", "cron")]
    [InlineData("s", "0 3 * * *", null, 60.0, "report", "cron")]
    [InlineData("s", "0 3 * * *", null, null, "nope", "type")]
    [InlineData("s", "0 3 * * *", null, null, null, "type")]
    public void Define_BadInput_NamesTheField(string name, string? cron, string? zone, double? everySeconds, string? type, string field)
    {
        var options = new ScheduleOptions
        {
            Cron = cron,
            TimeZone = zone,
            Every = everySeconds is { } s ? TimeSpan.FromSeconds(s) : null,
            Type = type,
        };

        var invalid = Assert.Throws<TaskValidationException>(() => Schedules.Define(name, options));

        Assert.Equal(field, invalid.Field);
    }
}
