using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TaskSystem.Tests.Support;
using TaskSystem.TestSupport;

namespace TaskSystem.Tests.Handlers.Http;

/// <summary>An engine with the http task type, allowed to call one receiver (on loopback, so private networks are allowed).</summary>
internal static class HttpTaskHost
{
    public static Task<EngineHost> StartAsync(
        TargetReceiver receiver,
        Action<HttpTargetOptions>? http = null,
        Action<TaskSystemOptions>? options = null) =>
        EngineHost.StartAsync(
            b => b.AddHttpTargets(o =>
            {
                o.AllowedTargets.Add(receiver.BaseAddress.AbsoluteUri);
                o.AllowPrivateNetworks = true;
                http?.Invoke(o);
            }),
            options);

    /// <summary>Enqueues an http task whose payload is exactly <paramref name="payloadJson"/>.</summary>
    public static Task<TaskInfo> EnqueueHttpAsync(this EngineHost host, string payloadJson, int maxAttempts = 3, TimeSpan? timeout = null)
    {
        using var payload = JsonDocument.Parse(payloadJson);
        return host.Manager.EnqueueAsync(new TaskRequest("http") { Payload = payload.RootElement.Clone(), MaxAttempts = maxAttempts, Timeout = timeout });
    }

    public static Task Answer(this HttpContext context, int status, string? body = null, string contentType = "application/json")
    {
        context.Response.StatusCode = status;
        if (body is null)
        {
            return Task.CompletedTask;
        }

        context.Response.ContentType = contentType;
        return context.Response.WriteAsync(body);
    }

    /// <summary>
    /// A receiver that answers the first attempt <paramref name="status"/> with <c>Retry-After: <paramref name="retryAfter"/></c>
    /// and 200 after it, called by an http task on an engine whose backoff alone would retry after 20 to 30 ms: the
    /// finished task, and the requests the receiver saw.
    /// </summary>
    public static async Task<(TaskInfo Done, IReadOnlyList<ReceivedRequest> Requests)> RunRetryAfterAsync(
        int status, string retryAfter, string body, TimeSpan retryMaxDelay)
    {
        await using var receiver = await TargetReceiver.StartAsync((context, request) =>
        {
            if (request.Header("TaskSystem-Attempt") == "1")
            {
                context.Response.Headers.RetryAfter = retryAfter;
                return context.Answer(status, body, "text/plain");
            }

            return context.Answer(200);
        });
        await using var host = await StartAsync(receiver, options: o => { o.RetryBaseDelay = TimeSpan.FromMilliseconds(20); o.RetryMaxDelay = retryMaxDelay; });

        var task = await host.EnqueueHttpAsync($$"""{"url": "{{receiver.Url("hook")}}"}""");

        return (await host.WaitForStateAsync(task.Id, TaskState.Succeeded), receiver.Requests);
    }
}
