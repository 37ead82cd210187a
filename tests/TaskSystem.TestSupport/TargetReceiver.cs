using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TaskSystem.TestSupport;

/// <summary>
/// A real HTTP receiver on a loopback port (Kestrel), for the tasks that call out: it records every request (headers,
/// exact body, when it came, whether the caller aborted it) and answers with the test's function.
/// </summary>
public sealed class TargetReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private TargetReceiver(WebApplication app) => _app = app;

    /// <summary>The receiver's base address, <c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    public IReadOnlyList<ReceivedRequest> Requests => [.. _requests];

    /// <summary>Starts a receiver that answers every request with <paramref name="answer"/>.</summary>
    public static async Task<TargetReceiver> StartAsync(Func<HttpContext, ReceivedRequest, Task> answer)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new TargetReceiver(app);
        app.Run(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            var request = new ReceivedRequest(
                context.Request.Method,
                context.Request.Path + context.Request.QueryString,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                body.ToArray(),
                receiver._clock.Elapsed);
            receiver._requests.Enqueue(request);
            using var aborted = context.RequestAborted.Register(request.MarkAborted);
            try
            {
                await answer(context, request);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // The caller went away: nothing to answer. Marked here too: the registration above can be removed by
                // its `using` before its turn when the answer's own cancellation callback ends it inline.
                request.MarkAborted();
            }
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        receiver.BaseAddress = new Uri(address.TrimEnd('/') + "/");
        return receiver;
    }

    /// <summary>A URL on this receiver.</summary>
    public string Url(string path) => new Uri(BaseAddress, path).AbsoluteUri;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>One request as the receiver got it.</summary>
/// <param name="Method">The method.</param>
/// <param name="PathAndQuery">The path and query string.</param>
/// <param name="Headers">The headers (names case-insensitive; repeated ones joined by commas).</param>
/// <param name="Body">The exact body bytes.</param>
/// <param name="At">When it arrived, from the receiver's start.</param>
public sealed record ReceivedRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, byte[] Body, TimeSpan At)
{
    private readonly TaskCompletionSource _aborted = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the caller aborts the request before the answer is complete.</summary>
    public Task Aborted => _aborted.Task;

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    internal void MarkAborted() => _aborted.TrySetResult();
}
