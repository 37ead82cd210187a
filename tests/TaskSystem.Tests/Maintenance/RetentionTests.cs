using System.Diagnostics.Metrics;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using TaskSystem.Diagnostics;
using TaskSystem.Tests.Support;
using Xunit.Abstractions;

namespace TaskSystem.Tests.Maintenance;

/// <summary>Retention deletes finished tasks past TaskSystem:Retention, in small batches, on a fake clock.</summary>
public sealed class RetentionTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Retention = TimeSpan.FromHours(1);
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task Retention_DeletesFinishedTasksOlderThanTheRetention_InBatches_AndKeepsTheRest()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await StartAsync(time, batchSize: 3);
        using var deleted = new MetricCollector<long>(host.Host.Services.GetRequiredService<IMeterFactory>(), TaskSystemDiagnostics.MeterName, "tasksystem.tasks.deleted");
        var old = await RunAsync(host, 10);
        var waiting = await host.EnqueueAsync("t", change: r => r with { RunAt = time.GetUtcNow().AddDays(30) });

        time.Advance(TimeSpan.FromMinutes(30));
        var recent = await RunAsync(host, 2);
        time.Advance(TimeSpan.FromMinutes(31));

        await Eventually.Until(async () => await host.Manager.GetAsync(old[^1]) is null, gone => gone, because: "retention to delete the old tasks");
        foreach (var id in old)
        {
            Assert.Null(await host.Manager.GetAsync(id));
        }

        foreach (var id in recent)
        {
            Assert.Equal(TaskState.Succeeded, (await host.Manager.GetAsync(id))!.State);
        }

        Assert.Equal(TaskState.Scheduled, (await host.Manager.GetAsync(waiting.Id))!.State);
        Assert.Equal(10, deleted.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal([3, 3, 3, 1], deleted.GetMeasurementSnapshot().Select(m => m.Value));
    }

    /// <summary>
    /// SQLite never gives pages back to the file system by itself; it reuses the pages that deletes free. So under a
    /// steady load with retention the database file stops growing: after a few rounds, the page count stays flat.
    /// </summary>
    [Fact]
    public async Task SteadyLoad_WithRetention_TheDatabaseFileStopsGrowing()
    {
        const int Rounds = 12;
        const int TasksPerRound = 300;
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await StartAsync(time, batchSize: 100);
        var path = new SqliteConnectionStringBuilder(host.Host.Services.GetRequiredService<IOptions<TaskSystemOptions>>().Value.ConnectionString).DataSource;
        var pages = new List<long>();
        var free = new List<long>();
        var payload = new { text = new string('x', 2000) };

        for (var round = 0; round < Rounds; round++)
        {
            var ids = await RunAsync(host, TasksPerRound, payload);
            time.Advance(Retention + Interval);
            await Eventually.Until(async () => await host.Manager.GetAsync(ids[^1]) is null, gone => gone, because: $"round {round}'s tasks to be deleted");
            var (pageCount, freeCount) = Pages(path);
            pages.Add(pageCount);
            free.Add(freeCount);
        }

        output.WriteLine($"pages after each round: {string.Join(", ", pages)}; free pages among them: {string.Join(", ", free)}");
        var warmedUp = pages.Take(3).Max();
        Assert.All(pages.Skip(3), count => Assert.InRange(count, 0, warmedUp + (warmedUp / 20)));

        // The file keeps its size (free pages are not returned), and a round's worth of pages waits for reuse.
        Assert.All(free, count => Assert.True(count > pages[0] / 2, $"expected a round's worth of free pages, got {count}"));
    }

    private static Task<EngineHost> StartAsync(FakeTimeProvider time, int batchSize) => EngineHost.StartAsync(
        b => b.AddHandler("t", (_, _) => Task.CompletedTask),
        o =>
        {
            o.Retention = Retention;
            o.RetentionInterval = Interval;
            o.RetentionBatchSize = batchSize;
        },
        time);

    /// <summary>Enqueues tasks in one commit and waits until they all succeeded.</summary>
    private static async Task<long[]> RunAsync(EngineHost host, int count, object? payload = null)
    {
        var requests = Enumerable.Range(0, count).Select(_ => new TaskRequest("t")
        {
            Payload = payload is null ? null : System.Text.Json.JsonSerializer.SerializeToElement(payload),
        });
        var ids = (await host.Manager.EnqueueManyAsync(requests)).Select(t => t.Id).ToArray();
        foreach (var id in ids)
        {
            await host.WaitForStateAsync(id, TaskState.Succeeded);
        }

        return ids;
    }

    private static (long Pages, long Free) Pages(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA page_count";
        var pages = (long)command.ExecuteScalar()!;
        command.CommandText = "PRAGMA freelist_count";
        return (pages, (long)command.ExecuteScalar()!);
    }
}
