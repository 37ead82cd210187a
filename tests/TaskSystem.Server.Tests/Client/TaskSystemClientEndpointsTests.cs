using System.Net;
using Microsoft.Extensions.DependencyInjection;
using TaskSystem.Client;
using TaskSystem.Server.Tests.Support;

namespace TaskSystem.Server.Tests.Client;

/// <summary>
/// The client's event stream, batches, bulk actions, queues, schedules, unique keys and progress, against the real
/// server (its own code on Kestrel, over a loopback socket: see <see cref="InProcessServer"/>); and the error answers
/// (409, 413, 503, 401 on the stream) as the one exception type.
/// </summary>
public sealed class TaskSystemClientEndpointsTests
{
    private const string Key = "client-test-key-0123456789abcdef";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private sealed record DemoPayload(int DurationMs, int FailAttempts = 0);

    private static async Task<(InProcessServer Server, ServiceProvider Services, TaskSystemClient Client)> StartAsync(TempDirectory directory, params string[] settings)
    {
        var server = await InProcessServer.StartAsync(
            ["--TaskSystem:ConnectionString", directory.SqliteConnectionString, "--TaskSystem:ApiKeys:0", Key, .. settings]);
        var services = new ServiceCollection().AddTaskSystemHttpClient(server.Address, Key).Services.BuildServiceProvider();
        return (server, services, services.GetRequiredService<TaskSystemClient>());
    }

    [Fact]
    public async Task WatchTask_FollowsATaskThroughItsProgress_UntilItFinishes()
    {
        using var directory = new TempDirectory();
        var (server, services, client) = await StartAsync(directory);
        await using var serverLifetime = server;
        await using var servicesLifetime = services;

        var first = await client.WatchEventsAsync().FirstAsync().AsTask().WaitAsync(Deadline);
        Assert.Equal("stats", first.Name);
        Assert.True(first.Data.TryGetProperty("counts", out _), first.Data.ToString());

        // Two seconds of sleep report progress as they go; the watch ends with the task finished.
        var task = await client.EnqueueAsync("demo", new DemoPayload(DurationMs: 2000));
        var seen = await client.WatchTaskAsync(task.Id).ToListAsync().AsTask().WaitAsync(Deadline);

        Assert.Equal("succeeded", seen[^1].State);
        Assert.All(seen[..^1], t => Assert.False(t.IsFinished));
        Assert.Equal(seen.Count, seen.DistinctBy(t => (t.State, t.Attempt, t.Progress?.Percent, t.Progress?.Message)).Count());
        Assert.Equal(100d, seen[^1].Progress?.Percent);

        // A task finished before the watch began: the first item is the last.
        var again = await client.WatchTaskAsync(task.Id).ToListAsync().AsTask().WaitAsync(Deadline);
        Assert.Equal("succeeded", Assert.Single(again).State);
    }

    [Fact]
    public async Task BatchKeysBulkQueuesAndSchedules_RoundTripThroughTheClient()
    {
        using var directory = new TempDirectory();
        var (server, services, client) = await StartAsync(directory);
        await using var serverLifetime = server;
        await using var servicesLifetime = services;
        var later = new TaskSystemEnqueueOptions { Queue = "held", RunAt = TimeProvider.System.GetUtcNow().AddDays(1) };

        // Unique keys: the second enqueue with the key answers the first task.
        var keyed = await client.EnqueueAsync("demo", new DemoPayload(0), later with { Key = "report-42" });
        var again = await client.EnqueueAsync("demo", new DemoPayload(0), later with { Key = "report-42" });
        Assert.Equal((keyed.Id, false, true, "report-42"), (again.Id, keyed.Existing, again.Existing, again.Key));

        // A batch: in order, one commit, the held key answered by its task.
        var batch = await client.EnqueueBatchAsync(
        [
            new TaskSystemBatchItem("demo", new DemoPayload(0), later),
            new TaskSystemBatchItem("demo", Options: later with { Priority = 7 }),
            new TaskSystemBatchItem("demo", new DemoPayload(0), later with { Key = "report-42" }),
        ]);
        Assert.Equal(3, batch.Count);
        Assert.Equal((7, keyed.Id, true), (batch[1].Priority, batch[2].Id, batch[2].Existing));
        Assert.All(batch, t => Assert.Equal("scheduled", t.State));

        // Queues: listed with counts; a pause and a resume say whether they changed anything.
        var queues = await client.ListQueuesAsync();
        var held = Assert.Single(queues.Queues, q => q.Name == "held");
        Assert.Equal((3L, false), (held.Counts["scheduled"], held.Paused));
        Assert.Equal(new TaskSystemQueuePause("held", true, true), await client.PauseQueueAsync("held"));
        Assert.Equal(new TaskSystemQueuePause("held", true, false), await client.PauseQueueAsync("held"));
        Assert.True(Assert.Single((await client.ListQueuesAsync()).Queues, q => q.Name == "held").Paused);
        Assert.Equal(new TaskSystemQueuePause("held", false, true), await client.ResumeQueueAsync("held"));

        // Bulk: stop by ids, then retry by filter.
        var stopped = await client.BulkAsync(TaskSystemBulkAction.Stop, [keyed.Id, batch[0].Id]);
        Assert.Equal(new TaskSystemBulkResult("stop", 2, 2), stopped);
        var retried = await client.BulkAsync(TaskSystemBulkAction.Retry, new TaskSystemBulkFilter { Queue = "held", States = ["cancelled"] });
        Assert.Equal(new TaskSystemBulkResult("retry", 2, 2), retried);
        Assert.Contains((await client.GetAsync(keyed.Id)).State, new[] { "queued", "running", "succeeded" });

        // Schedules: create, read, pause, trigger, list, delete.
        var definition = new TaskSystemScheduleDefinition { Every = TimeSpan.FromHours(1), Type = "demo", Payload = new DemoPayload(0), Queue = "nightly" };
        var put = await client.PutScheduleAsync("hourly", definition);
        Assert.Equal(("hourly", "01:00:00", "demo", false), (put.Name, put.Every, put.Type, put.Paused));
        Assert.True((await client.PauseScheduleAsync("hourly")).Paused);
        Assert.Equal("hourly", (await client.GetScheduleAsync("hourly")).Name);
        var triggered = await client.TriggerScheduleAsync("hourly");
        Assert.Equal(("demo", "nightly"), (triggered.Type, triggered.Queue));
        Assert.False((await client.ResumeScheduleAsync("hourly")).Paused);
        Assert.Equal(["hourly"], (await client.ListSchedulesAsync()).Select(s => s.Name));
        await client.DeleteScheduleAsync("hourly");
        var gone = await Assert.ThrowsAsync<TaskSystemApiException>(() => client.GetScheduleAsync("hourly"));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        var badCron = await Assert.ThrowsAsync<TaskSystemApiException>(() => client.PutScheduleAsync("bad", definition with { Every = null, Cron = "not a cron" }));
        Assert.Equal((HttpStatusCode.BadRequest, "cron"), (badCron.StatusCode, badCron.Field));
    }

    [Fact]
    public async Task ErrorAnswers_OfTheNewEndpoints_ThrowWithTheProblemDetails()
    {
        using var directory = new TempDirectory();
        var (server, services, client) = await StartAsync(directory, "--TaskSystem:MaxQueued", "2", "--TaskSystem:MaxPayloadBytes", "1024");
        await using var serverLifetime = server;
        await using var servicesLifetime = services;
        var later = new TaskSystemEnqueueOptions { RunAt = TimeProvider.System.GetUtcNow().AddDays(1) };

        // 413: an item of a batch larger than MaxPayloadBytes.
        var tooLarge = await Assert.ThrowsAsync<TaskSystemApiException>(() => client.EnqueueBatchAsync([new TaskSystemBatchItem("demo", new { text = new string('x', 4096) })]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Contains("MaxPayloadBytes", tooLarge.Detail, StringComparison.Ordinal);

        // 503: past MaxQueued, with when to try again.
        await client.EnqueueAsync("demo", new DemoPayload(0), later);
        var second = await client.EnqueueAsync("demo", new DemoPayload(0), later);
        var full = await Assert.ThrowsAsync<TaskSystemApiException>(() => client.EnqueueAsync("demo", new DemoPayload(0), later));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, full.StatusCode);
        Assert.Contains("MaxQueued", full.Detail, StringComparison.Ordinal);
        Assert.NotNull(full.RetryAfter);

        // 409: a retry of a task that has not failed.
        var conflict = await Assert.ThrowsAsync<TaskSystemApiException>(() => client.RetryAsync(second.Id));
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.NotNull(conflict.Detail);

        // 400 naming the field: a queue name longer than a queue's name may be.
        var badQueue = await Assert.ThrowsAsync<TaskSystemApiException>(() => client.PauseQueueAsync(new string('q', 300)));
        Assert.Equal((HttpStatusCode.BadRequest, "queue"), (badQueue.StatusCode, badQueue.Field));

        // 401: the event stream wants the key as every endpoint does.
        await using var wrongKey = new ServiceCollection().AddTaskSystemHttpClient(server.Address, "wrong-key-0123456789abcdef").Services.BuildServiceProvider();
        var refused = await Assert.ThrowsAsync<TaskSystemApiException>(
            () => wrongKey.GetRequiredService<TaskSystemClient>().WatchEventsAsync().FirstAsync().AsTask());
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }
}
