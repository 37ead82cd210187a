using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using TaskSystem.Tests.Support;
using TaskSystem.TestSupport;

namespace TaskSystem.Tests.Handlers.Http;

/// <summary>
/// The client around the requests: one factory client on a SocketsHttpHandler with no retry layer of its own, a
/// per-host connection limit, and Retry-After read only on 429 and 503 and bounded by the task system's settings.
/// </summary>
public sealed class HttpTargetClientTests
{
    [Fact]
    public async Task Client_IsTheFactorysNamedClient_OnASocketsHttpHandler_WithNoRetryOrRedirectLayer()
    {
        await using var host = EngineHost.Create(b => b.AddHttpTargets(o =>
        {
            o.AllowedTargets.Add("https://api.example.com/hooks/");
            o.MaxConnectionsPerHost = 7;
        }));

        using var handler = host.Host.Services.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler(TaskSystem.Handlers.Http.HttpTargetHandler.ClientName);

        // The factory's own lifetime wrapper is the only layer: no Polly, no resilience handler, no logging handler.
        var layers = new List<string>();
        var inner = handler;
        while (inner is DelegatingHandler delegating)
        {
            layers.Add(delegating.GetType().Name);
            inner = delegating.InnerHandler!;
        }

        Assert.Equal(["LifetimeTrackingHttpMessageHandler"], layers);
        var sockets = Assert.IsType<SocketsHttpHandler>(inner);
        Assert.Equal(7, sockets.MaxConnectionsPerServer);
        Assert.Equal((false, false, false), (sockets.AllowAutoRedirect, sockets.UseProxy, sockets.UseCookies));
        Assert.NotNull(sockets.ConnectCallback);
    }

    [Fact]
    public async Task MaxConnectionsPerHost_BoundsTheConnectionsToOneTarget_TheOtherWorkersWait()
    {
        const int Tasks = 6;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var connections = new ConcurrentDictionary<string, bool>();
        var inFlight = 0;
        var mostInFlight = 0;
        await using var receiver = await TargetReceiver.StartAsync(async (context, _) =>
        {
            connections.TryAdd(context.Connection.Id, true);
            var now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref mostInFlight, now);
            await release.Task.WaitAsync(context.RequestAborted);
            Interlocked.Decrement(ref inFlight);
            await context.Answer(200);
        });
        await using var host = await HttpTaskHost.StartAsync(receiver, http: o => o.MaxConnectionsPerHost = 2, options: o => o.Concurrency = Tasks);

        var tasks = new List<TaskInfo>();
        for (var i = 0; i < Tasks; i++)
        {
            tasks.Add(await host.EnqueueHttpAsync($$"""{"url": "{{receiver.Url("hook")}}"}"""));
        }

        // Every worker is in its handler, two requests are at the receiver: the other four wait for a connection.
        await Eventually.Until(
            async () => (await host.Manager.CountByStateAsync())[TaskState.Running],
            running => running == Tasks && Volatile.Read(ref inFlight) == 2,
            TimeSpan.FromSeconds(20),
            "all tasks running with two requests at the receiver");
        release.SetResult();

        foreach (var task in tasks)
        {
            await host.WaitForStateAsync(task.Id, TaskState.Succeeded);
        }

        Assert.Equal(2, Volatile.Read(ref mostInFlight));
        Assert.Equal(2, connections.Count);
        Assert.Equal(Tasks, receiver.Requests.Count);
    }

    [Fact]
    public async Task Answer429WithAFarRetryAfter_WaitsNoLongerThanRetryMaxDelay()
    {
        // The backoff alone would retry after 20 to 30 ms; the receiver asks for an hour; the bound is a second.
        var (done, requests) = await HttpTaskHost.RunRetryAfterAsync(429, "3600", "slow down", retryMaxDelay: TimeSpan.FromSeconds(1));

        Assert.Equal(2, done.Attempt);
        Assert.Contains("answered 429 Too Many Requests: slow down", Assert.Single(done.Errors).Error, StringComparison.Ordinal);
        Assert.InRange(requests[1].At - requests[0].At, TimeSpan.FromSeconds(0.95), TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task RetryAfterOnA500_IsNotRead_TheBackoffDecides()
    {
        // Were the header read, the wait would be RetryMaxDelay (30 s); the backoff is 20 to 30 ms.
        var (done, requests) = await HttpTaskHost.RunRetryAfterAsync(500, "3600", "oops", retryMaxDelay: TimeSpan.FromSeconds(30));

        Assert.Equal(2, done.Attempt);
        Assert.InRange(requests[1].At - requests[0].At, TimeSpan.Zero, TimeSpan.FromSeconds(15));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen)
        {
            var was = Interlocked.CompareExchange(ref target, value, seen);
            if (was == seen)
            {
                return;
            }

            seen = was;
        }
    }
}
