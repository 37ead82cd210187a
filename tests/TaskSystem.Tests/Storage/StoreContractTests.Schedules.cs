using TaskSystem.Storage;

namespace TaskSystem.Tests.Storage;

/// <summary>Schedules: definitions kept across writes, and each tick fired once whoever races for it.</summary>
public abstract partial class StoreContractTests
{
    private static ScheduleRecord Schedule(string name, DateTimeOffset? next = null, bool paused = false, TimeSpan? every = null) => new(
        name, null, "UTC", every ?? TimeSpan.FromMinutes(1), """{"type":"a"}""", paused, "allow", "skip", next ?? T0, null, null, T0);

    private static Task<ScheduleFireResult> FireAsync(ITaskStore store, string name, DateTimeOffset expected, bool skipWhileUnfinished = false) =>
        store.ScheduleFireAsync(
            new ScheduleFireParams(name, expected, expected, expected.AddMinutes(1), Task() with { Schedule = name, ScheduledFor = expected }, skipWhileUnfinished),
            CancellationToken.None);

    [Fact]
    public async Task ScheduleUpsert_CreatesThenReplaces_KeepingTheNextTickWhenTheTimingIsTheSame()
    {
        var created = await Store.ScheduleUpsertAsync(new ScheduleUpsertParams(Schedule("s", T0)), CancellationToken.None);
        var replaced = await Store.ScheduleUpsertAsync(new ScheduleUpsertParams(Schedule("s", T0.AddHours(1)) with { TemplateJson = """{"type":"b"}""" }), CancellationToken.None);
        var retimed = await Store.ScheduleUpsertAsync(new ScheduleUpsertParams(Schedule("s", T0.AddHours(2), every: TimeSpan.FromMinutes(5))), CancellationToken.None);

        Assert.Equal(T0, created.NextRunAt);
        Assert.Equal((T0, """{"type":"b"}"""), (replaced.NextRunAt, replaced.TemplateJson));
        Assert.Equal((T0.AddHours(2), TimeSpan.FromMinutes(5)), (retimed.NextRunAt, retimed.Every));
        Assert.Equal(retimed, await Store.ScheduleGetAsync("s", CancellationToken.None));
        Assert.Equal(["s"], (await Store.SchedulesListAsync(CancellationToken.None)).Select(s => s.Name));
    }

    [Fact]
    public async Task ScheduleDelete_RemovesTheScheduleOnly()
    {
        await Store.ScheduleUpsertAsync(new ScheduleUpsertParams(Schedule("s")), CancellationToken.None);
        var fired = await FireAsync(Store, "s", T0);

        Assert.True(await Store.ScheduleDeleteAsync("s", CancellationToken.None));
        Assert.False(await Store.ScheduleDeleteAsync("s", CancellationToken.None));
        Assert.Null(await Store.ScheduleGetAsync("s", CancellationToken.None));
        Assert.Equal("s", (await GetAsync(fired.Task!.Id)).Schedule);
    }

    [Fact]
    public async Task ScheduleFire_MovesOnAndMakesTheTask_ThenTheSameTickIsLost()
    {
        await Store.ScheduleUpsertAsync(new ScheduleUpsertParams(Schedule("s")), CancellationToken.None);

        var first = await FireAsync(Store, "s", T0);
        var again = await FireAsync(Store, "s", T0);

        Assert.Equal(ScheduleFireOutcome.Fired, first.Outcome);
        Assert.Equal((T0.AddMinutes(1), T0, first.Task!.Id), (first.Schedule!.NextRunAt, first.Schedule.LastRunAt, first.Schedule.LastTaskId));
        Assert.Equal(("s", T0), (first.Task.Schedule, first.Task.ScheduledFor));
        Assert.Equal(ScheduleFireOutcome.Lost, again.Outcome);
        Assert.Single(await Store.TasksListAsync(new TasksListParams(null, null, null, null, 10), CancellationToken.None));
    }

    [Fact]
    public async Task ScheduleFire_PausedOrMissing_IsLost()
    {
        await Store.ScheduleUpsertAsync(new ScheduleUpsertParams(Schedule("p", paused: true)), CancellationToken.None);

        Assert.Equal(ScheduleFireOutcome.Lost, (await FireAsync(Store, "p", T0)).Outcome);
        Assert.Equal(ScheduleFireOutcome.Lost, (await FireAsync(Store, "missing", T0)).Outcome);
        Assert.Empty(await Store.TasksListAsync(new TasksListParams(null, null, null, null, 10), CancellationToken.None));
    }

    [Fact]
    public async Task ScheduleFire_SkipWhileUnfinished_MovesOnWithoutATask_UntilThePreviousFinishes()
    {
        await Store.ScheduleUpsertAsync(new ScheduleUpsertParams(Schedule("o")), CancellationToken.None);
        var first = await FireAsync(Store, "o", T0, skipWhileUnfinished: true);

        var second = await FireAsync(Store, "o", T0.AddMinutes(1), skipWhileUnfinished: true);
        await Store.TaskCancelAsync(new TaskCancelParams(first.Task!.Id, T0), CancellationToken.None);
        var third = await FireAsync(Store, "o", T0.AddMinutes(2), skipWhileUnfinished: true);

        Assert.Equal((ScheduleFireOutcome.Skipped, T0.AddMinutes(2)), (second.Outcome, second.Schedule!.NextRunAt));
        Assert.Equal(ScheduleFireOutcome.Fired, third.Outcome);
        Assert.Equal(third.Task!.Id, third.Schedule!.LastTaskId);
    }

    [Fact]
    public async Task ScheduleFire_ConcurrentWritersOnOneTick_OneFires()
    {
        var other = await SecondWriterAsync();
        await other.MigrateAsync(CancellationToken.None);
        await Store.ScheduleUpsertAsync(new ScheduleUpsertParams(Schedule("race")), CancellationToken.None);

        var results = await System.Threading.Tasks.Task.WhenAll(Enumerable.Range(0, 10).Select(i => FireAsync(i % 2 == 0 ? Store : other, "race", T0)));

        Assert.Single(results, r => r.Outcome == ScheduleFireOutcome.Fired);
        Assert.Equal(9, results.Count(r => r.Outcome == ScheduleFireOutcome.Lost));
        Assert.Single(await Store.TasksListAsync(new TasksListParams(null, null, null, null, 10), CancellationToken.None));
    }

    [Fact]
    public async Task SchedulePause_SetsTheFlag_AndResumeSetsTheNextTick()
    {
        await Store.ScheduleUpsertAsync(new ScheduleUpsertParams(Schedule("p")), CancellationToken.None);

        var paused = await Store.SchedulePauseAsync(new SchedulePauseParams("p", true, T0.AddHours(5), T0), CancellationToken.None);
        var resumed = await Store.SchedulePauseAsync(new SchedulePauseParams("p", false, T0.AddHours(1), T0), CancellationToken.None);

        Assert.Equal((true, T0), (paused!.Paused, paused.NextRunAt));
        Assert.Equal((false, T0.AddHours(1)), (resumed!.Paused, resumed.NextRunAt));
        Assert.Null(await Store.SchedulePauseAsync(new SchedulePauseParams("missing", true, null, T0), CancellationToken.None));
    }
}
