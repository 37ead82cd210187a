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
}
