using System.Diagnostics;
using TaskSystem.Storage;
using TaskSystem.Tests.Support;
using Xunit.Abstractions;

namespace TaskSystem.Tests.Engine;

/// <summary>Continuations across nodes on one PostgreSQL database: a parent finishing on one node releases a child another runs.</summary>
public sealed class PostgresContinuationClusterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private string _connectionString = null!;

    public async Task InitializeAsync() => _connectionString = await PostgresDatabases.CreateAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private static NewTask NewTask(string type, long[]? after = null)
    {
        var now = DateTimeOffset.UtcNow;
        return new NewTask(type, "default", 0, "{}", 3, TimeSpan.FromMinutes(1), now, now) { After = after };
    }

    [Fact]
    public async Task ParentFinishingOnOneNode_ReleasesTheChild_WhichTheOtherNodeRunsWithoutPolling()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var parentDone = 0L;
        var childStarted = new TaskCompletionSource<(long At, string Node)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var a = await PostgresEngineHosts.StartAsync(_connectionString, "a", b => b.AddHandler("parent", async (_, ct) =>
        {
            await release.Task.WaitAsync(ct);
            Volatile.Write(ref parentDone, Stopwatch.GetTimestamp());
        }), o => o.PollInterval = TimeSpan.FromHours(1));
        await using var b = await PostgresEngineHosts.StartAsync(_connectionString, "b", b => b.AddHandler("child", (ctx, _) =>
        {
            childStarted.TrySetResult((Stopwatch.GetTimestamp(), ctx.Node));
            return Task.CompletedTask;
        }), o => o.PollInterval = TimeSpan.FromHours(1));

        var parent = (await a.Store.TasksInsertAsync(new TasksInsertParams([NewTask("parent")]), CancellationToken.None))[0];
        var child = (await a.Store.TasksInsertAsync(new TasksInsertParams([NewTask("child", [parent.Id])]), CancellationToken.None))[0];
        Assert.Equal(TaskState.Awaiting, child.State);
        a.Host.Services.GetService(typeof(TaskSystem.Engine.WakeSignal)).As<TaskSystem.Engine.WakeSignal>().Set();
        await a.WaitForStateAsync(parent.Id, TaskState.Running);
        Assert.Equal(TaskState.Awaiting, (await b.Manager.GetAsync(child.Id))!.State);

        release.SetResult();
        var (at, node) = await childStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var latency = Stopwatch.GetElapsedTime(Volatile.Read(ref parentDone), at).TotalMilliseconds;
        output.WriteLine($"parent returned on a, child started on b after {latency:0.0} ms");
        Assert.Equal("b", node);
        await b.WaitForStateAsync(child.Id, TaskState.Succeeded);
        Assert.True(latency < 1000, $"the child started {latency:0} ms after its parent returned: far below any poll (an hour here)");
    }

    [Fact]
    public async Task ChildInsertedWhileItsParentFinishes_IsSettledExactlyOnce()
    {
        // Many children inserted from node b while node a finishes their parents: whichever commits first, none is stranded.
        await using var a = await PostgresEngineHosts.StartAsync(_connectionString, "a", b => b.AddHandler("parent", (_, _) => Task.CompletedTask));
        await using var b = await PostgresEngineHosts.StartAsync(_connectionString, "b", b => b.AddHandler("child", (_, _) => Task.CompletedTask));
        var parents = await a.Store.TasksInsertAsync(new TasksInsertParams([.. Enumerable.Range(0, 50).Select(_ => NewTask("parent"))]), CancellationToken.None);
        a.Host.Services.GetService(typeof(TaskSystem.Engine.WakeSignal)).As<TaskSystem.Engine.WakeSignal>().Set();

        var children = await Task.WhenAll(parents.Select(p => b.Store.TasksInsertAsync(new TasksInsertParams([NewTask("child", [p.Id])]), CancellationToken.None)));
        b.Host.Services.GetService(typeof(TaskSystem.Engine.WakeSignal)).As<TaskSystem.Engine.WakeSignal>().Set();

        foreach (var child in children.Select(c => c[0]))
        {
            await b.WaitForStateAsync(child.Id, TaskState.Succeeded);
        }
    }
}
