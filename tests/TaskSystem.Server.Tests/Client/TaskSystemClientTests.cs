using System.Net;
using Microsoft.Extensions.DependencyInjection;
using TaskSystem.Client;
using TaskSystem.Server.Tests.Support;

namespace TaskSystem.Server.Tests.Client;

/// <summary>
/// The typed client against the real server (its own code on Kestrel, over a loopback socket: see
/// <see cref="InProcessServer"/>), registered as an app would register it.
/// </summary>
public sealed class TaskSystemClientTests
{
    private const string Key = "client-test-key-0123456789abcdef";

    private sealed record DemoPayload(int DurationMs, int FailAttempts = 0);

    [Fact]
    public async Task Client_EnqueuesWaitsListsStopsAndRetries_AgainstTheRealServer()
    {
        using var directory = new TempDirectory();
        await using var server = await InProcessServer.StartAsync("--TaskSystem:ConnectionString", directory.SqliteConnectionString, "--TaskSystem:ApiKeys:0", Key);
        await using var services = new ServiceCollection().AddTaskSystemHttpClient(server.Address, Key).Services.BuildServiceProvider();
        var client = services.GetRequiredService<TaskSystemClient>();

        var quick = await client.EnqueueAsync("demo", new DemoPayload(DurationMs: 10), new TaskSystemEnqueueOptions { Queue = "client", Priority = 5 });
        Assert.Equal(("demo", "client", 5, 10), (quick.Type, quick.Queue, quick.Priority, quick.Payload.GetProperty("durationMs").GetInt32()));
        var done = await client.WaitAsync(quick.Id, TimeSpan.FromMilliseconds(50)).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("succeeded", done.State);

        var slow = await client.EnqueueAsync("demo", new DemoPayload(DurationMs: 60_000));
        Assert.True(await client.StopAsync(slow.Id));
        Assert.Equal("cancelled", (await client.GetAsync(slow.Id)).State);
        var stopAgain = await Assert.ThrowsAsync<TaskSystemApiException>(() => client.StopAsync(quick.Id));
        Assert.Equal(HttpStatusCode.Conflict, stopAgain.StatusCode);

        var retried = await client.RetryAsync(slow.Id);
        Assert.Contains(retried.State, new[] { "queued", "running" });
        Assert.True(await client.StopAsync(slow.Id));

        // Pages of two: the enumeration follows the cursor through all of them.
        for (var i = 0; i < 3; i++)
        {
            await client.EnqueueAsync("demo", new DemoPayload(DurationMs: 0), new TaskSystemEnqueueOptions { Queue = "paged" });
        }

        var listed = new List<TaskSystemTask>();
        await foreach (var task in client.ListAsync(new TaskListFilter { Queue = "paged", PageSize = 2 }))
        {
            listed.Add(task);
        }

        Assert.Equal(3, listed.Count);
        Assert.Equal(listed.Select(t => t.Id).OrderDescending(), listed.Select(t => t.Id));
    }

    [Fact]
    public async Task Client_ErrorAnswers_ThrowOneExceptionType_WithTheProblemDetails()
    {
        using var directory = new TempDirectory();
        await using var server = await InProcessServer.StartAsync(
            "--TaskSystem:ConnectionString", directory.SqliteConnectionString, "--TaskSystem:ApiKeys:0", Key, "--TaskSystem:MaxPayloadBytes", "1024");
        await using var services = new ServiceCollection().AddTaskSystemHttpClient(server.Address, Key).Services.BuildServiceProvider();
        var client = services.GetRequiredService<TaskSystemClient>();

        var missing = await Assert.ThrowsAsync<TaskSystemApiException>(() => client.GetAsync(424242));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("424242", missing.Detail, StringComparison.Ordinal);

        var unknownType = await Assert.ThrowsAsync<TaskSystemApiException>(() => client.EnqueueAsync("no-such-type", new { }));
        Assert.Equal((HttpStatusCode.BadRequest, "type"), (unknownType.StatusCode, unknownType.Field));

        var tooLarge = await Assert.ThrowsAsync<TaskSystemApiException>(() => client.EnqueueAsync("demo", new { text = new string('x', 4096) }));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);

        var queued = await client.EnqueueAsync("demo", new DemoPayload(DurationMs: 60_000));
        var notRetryable = await Assert.ThrowsAsync<TaskSystemApiException>(() => client.RetryAsync(queued.Id));
        Assert.Equal(HttpStatusCode.Conflict, notRetryable.StatusCode);

        await using var wrongKey = new ServiceCollection().AddTaskSystemHttpClient(server.Address, apiKey: "wrong-key-0123456789abcdef").Services.BuildServiceProvider();
        var refused = await Assert.ThrowsAsync<TaskSystemApiException>(() => wrongKey.GetRequiredService<TaskSystemClient>().GetAsync(queued.Id));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.NotNull(refused.Detail);
    }

    [Fact]
    public async Task Client_RateLimited_ThrowsWithTheStatusAndWhenToTryAgain()
    {
        using var directory = new TempDirectory();
        await using var server = await InProcessServer.StartAsync(
            "--TaskSystem:ConnectionString", directory.SqliteConnectionString, "--TaskSystem:ApiKeys:0", Key,
            "--TaskSystem:RateLimitPerSecond", "1", "--TaskSystem:RateLimitBurst", "1");
        await using var services = new ServiceCollection().AddTaskSystemHttpClient(server.Address, Key).Services.BuildServiceProvider();
        var client = services.GetRequiredService<TaskSystemClient>();

        // One request a second with a burst of one: of three at once, at least one is refused.
        var calls = Enumerable.Range(0, 3).Select(_ => client.ListAsync().GetAsyncEnumerator().MoveNextAsync().AsTask()).ToList();
        var limited = await Assert.ThrowsAsync<TaskSystemApiException>(() => Task.WhenAll(calls));
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.True(limited.RetryAfter >= TimeSpan.FromSeconds(1), $"Retry-After was {limited.RetryAfter}");
        Assert.Contains("RateLimitPerSecond", limited.Detail, StringComparison.Ordinal);
    }
}
