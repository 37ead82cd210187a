using System.Globalization;
using Microsoft.AspNetCore.Http;
using TaskSystem.Tests.Support;
using TaskSystem.TestSupport;

namespace TaskSystem.Tests.Handlers.Http;

/// <summary>What keeps http tasks from being a way into the server's network: redirects, addresses, signatures.</summary>
public sealed class HttpTargetSafetyTests
{
    [Fact]
    public async Task RedirectToAHostNotAllowed_IsNotFollowed_AndFailsTheTaskAtOnce()
    {
        await using var elsewhere = await TargetReceiver.StartAsync((context, _) => context.Answer(200));
        await using var receiver = await TargetReceiver.StartAsync((context, _) =>
        {
            context.Response.Headers.Location = elsewhere.Url("internal/admin");
            return context.Answer(302);
        });
        await using var host = await HttpTaskHost.StartAsync(receiver);

        var task = await host.EnqueueHttpAsync($$"""{"url": "{{receiver.Url("hook")}}"}""", maxAttempts: 3);

        var failed = await host.WaitForStateAsync(task.Id, TaskState.Failed);
        Assert.Equal(1, failed.Attempt);
        Assert.Contains($"redirected (302) to {elsewhere.Url("internal/admin")}, which was not followed", failed.Error, StringComparison.Ordinal);
        Assert.Single(receiver.Requests);
        Assert.Empty(elsewhere.Requests);
    }

    [Fact]
    public async Task RedirectToAnAllowedUrl_IsFollowed_307KeepingTheBody_303AsAGetWithout()
    {
        await using var receiver = await TargetReceiver.StartAsync((context, request) =>
        {
            switch (request.PathAndQuery)
            {
                case "/moved":
                    context.Response.Headers.Location = "/kept";
                    return context.Answer(307);
                case "/kept":
                    context.Response.Headers.Location = "/see-other";
                    return context.Answer(303);
                default:
                    return context.Answer(200, """{"done": true}""");
            }
        });
        await using var host = await HttpTaskHost.StartAsync(receiver);

        var task = await host.EnqueueHttpAsync($$"""{"url": "{{receiver.Url("moved")}}", "headers": {"X-Key": "k"}, "body": {"a": 1} }""");

        var done = await host.WaitForStateAsync(task.Id, TaskState.Succeeded);
        Assert.Equal(receiver.Url("see-other"), done.Result!.Value.GetProperty("redirectedTo").GetString());
        var requests = receiver.Requests;
        Assert.Equal(["POST /moved", "POST /kept", "GET /see-other"], requests.Select(r => $"{r.Method} {r.PathAndQuery}"));
        Assert.Equal(("""{"a": 1}""", """{"a": 1}""", ""), (Text(requests[0]), Text(requests[1]), Text(requests[2])));
        Assert.All(requests, r => Assert.Equal("k", r.Header("X-Key")));
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("127.0.0.1")]
    public async Task TargetOnLoopback_IsRefusedAtConnect_UnlessPrivateNetworksAreAllowed(string hostName)
    {
        // The URL is allowed, so the task is accepted: the address is judged when the connection is made, after the
        // name is resolved (what a name resolves to may change between enqueue and attempt).
        await using var receiver = await TargetReceiver.StartAsync((context, _) => context.Answer(200));
        var target = $"http://{hostName}:{receiver.BaseAddress.Port}/";

        await using (var closed = await EngineHost.StartAsync(b => b.AddHttpTargets(o => o.AllowedTargets.Add(target))))
        {
            var task = await closed.EnqueueHttpAsync($$"""{"url": "{{target}}hook"}""", maxAttempts: 3);

            var failed = await closed.WaitForStateAsync(task.Id, TaskState.Failed);
            Assert.Equal(1, failed.Attempt);
            Assert.Contains("a loopback address; only public addresses may be called unless TaskSystem:Http:AllowPrivateNetworks is true", failed.Error, StringComparison.Ordinal);
            Assert.Empty(receiver.Requests);
        }

        await using var open = await EngineHost.StartAsync(b => b.AddHttpTargets(o => { o.AllowedTargets.Add(target); o.AllowPrivateNetworks = true; }));
        var allowed = await open.EnqueueHttpAsync($$"""{"url": "{{target}}hook"}""");
        await open.WaitForStateAsync(allowed.Id, TaskState.Succeeded);
        Assert.Single(receiver.Requests);
    }

    [Fact]
    public async Task SigningKeys_EachSignTheTimestampAndTheExactBody_VerifiedByTheDocumentedSnippet()
    {
        const string OldSecret = "old-secret-0123456789abcdefghijklmnopqrstuvwxyz";
        const string NewSecret = "new-secret-ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210";
        await using var receiver = await TargetReceiver.StartAsync((context, _) => context.Answer(200));
        await using var host = await HttpTaskHost.StartAsync(receiver, o =>
        {
            o.SigningKeys.Add(new HttpSigningKey { Id = "key-2", Secret = NewSecret });
            o.SigningKeys.Add(new HttpSigningKey { Id = "key-1", Secret = OldSecret });
        });

        var task = await host.EnqueueHttpAsync($$"""{"url": "{{receiver.Url("hook")}}", "body": {"x":  "é",  "y": [1, 2]} }""");
        var get = await host.EnqueueHttpAsync($$"""{"url": "{{receiver.Url("hook")}}", "method": "GET"}""");

        await host.WaitForStateAsync(task.Id, TaskState.Succeeded);
        await host.WaitForStateAsync(get.Id, TaskState.Succeeded);
        var now = DateTimeOffset.UtcNow;
        var tolerance = TimeSpan.FromMinutes(5);
        foreach (var request in receiver.Requests)
        {
            var timestamp = request.Header("TaskSystem-Timestamp");
            var signatures = request.Header("TaskSystem-Signature");
            Assert.Matches("^key-2=[0-9a-f]{64}, key-1=[0-9a-f]{64}$", signatures);
            Assert.True(TaskSystemSignature.Verify(timestamp, signatures, request.Body, "key-1", OldSecret, tolerance, now));
            Assert.True(TaskSystemSignature.Verify(timestamp, signatures, request.Body, "key-2", NewSecret, tolerance, now));
            Assert.False(TaskSystemSignature.Verify(timestamp, signatures, request.Body, "key-1", NewSecret, tolerance, now));
            Assert.False(TaskSystemSignature.Verify(timestamp, signatures, [.. request.Body, (byte)' '], "key-1", OldSecret, tolerance, now));
            var later = long.Parse(timestamp!, CultureInfo.InvariantCulture) + 1;
            Assert.False(TaskSystemSignature.Verify(later.ToString(CultureInfo.InvariantCulture), signatures, request.Body, "key-1", OldSecret, tolerance, now));
            Assert.False(TaskSystemSignature.Verify(timestamp, signatures, request.Body, "key-1", OldSecret, tolerance, now.AddMinutes(6)));
        }
    }

    private static string Text(ReceivedRequest request) => System.Text.Encoding.UTF8.GetString(request.Body);
}
