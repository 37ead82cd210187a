using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Library;

/// <summary>Typed handlers: named by attribute or convention, payloads read and checked with the app's JSON settings, results stored.</summary>
public sealed class TypedHandlerTests
{
    [Fact]
    public async Task TypedHandlerWithResult_NamedByConvention_RunsAndStoresItsResult()
    {
        await using var host = await EngineHost.StartAsync(b => b.AddJsonTypeInfoResolver(TypedJson.Default).AddHandler<ResizeImageHandler>());

        var task = await host.Manager.EnqueueAsync("resize-image", new ResizeImage("cat.png", 64), TypedJson.Default.ResizeImage);
        var done = await host.Manager.WaitAsync(task.Id);

        Assert.Equal(TaskState.Succeeded, done!.State);
        Assert.Equal(new Resized("cat.png@64", 64), done.Result!.Value.Deserialize(TypedJson.Default.Resized));
        Assert.Equal(["resize-image"], host.Manager.HandlerTypes);
    }

    [Fact]
    public async Task TypedHandlerWithoutResult_NamedByAttribute_GetsTheTypedPayload()
    {
        var seen = new TaskCompletionSource<Notify>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await EngineHost.StartAsync(b =>
        {
            b.Services.AddSingleton(seen);
            b.AddHandler<NotifyHandler>();
        });

        var task = await host.Manager.EnqueueAsync("notify-v2", new Notify("ops", 3));
        var done = await host.Manager.WaitAsync(task.Id);

        Assert.Equal(new Notify("ops", 3), await seen.Task);
        Assert.Equal((TaskState.Succeeded, (JsonElement?)null), (done!.State, done.Result));
    }

    [Fact]
    public async Task Enqueue_PayloadThatDoesNotFitTheTypedHandler_IsRefusedNamingThePayload()
    {
        await using var host = await EngineHost.StartAsync(b => b.AddHandler<ResizeImageHandler>());

        var error = await Assert.ThrowsAsync<TaskValidationException>(() =>
            host.Manager.EnqueueAsync(new TaskRequest("resize-image") { Payload = JsonDocument.Parse("""{"path": "a.png", "size": "big"}""").RootElement }));

        Assert.Equal("payload", error.Field);
        Assert.Contains("ResizeImage", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(typeof(ResizeImageHandler), "resize-image")]
    [InlineData(typeof(NotifyHandler), "notify-v2")]
    [InlineData(typeof(SendSMSNow), "send-sms-now")]
    public void TaskTypeName_ComesFromTheAttributeOrTheClassName(Type handler, string expected) =>
        Assert.Equal(expected, TaskTypeAttribute.NameOf(handler));

    public sealed record ResizeImage(string Path, int Size);

    public sealed record Resized(string Path, int Size);

    public sealed record Notify(string Channel, int Level);

    private sealed class ResizeImageHandler : ITaskHandler<ResizeImage, Resized>
    {
        public ValueTask<Resized> HandleAsync(ResizeImage payload, TaskContext context, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new Resized($"{payload.Path}@{payload.Size}", payload.Size));
    }

    [TaskType("notify-v2")]
    private sealed class NotifyHandler(TaskCompletionSource<Notify> seen) : ITaskHandler<Notify>
    {
        public ValueTask HandleAsync(Notify payload, TaskContext context, CancellationToken cancellationToken)
        {
            seen.TrySetResult(payload);
            return ValueTask.CompletedTask;
        }
    }

    private sealed class SendSMSNow : ITaskHandler
    {
        public ValueTask<JsonElement?> HandleAsync(TaskContext context, CancellationToken cancellationToken) => ValueTask.FromResult<JsonElement?>(null);
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(TypedHandlerTests.ResizeImage))]
[JsonSerializable(typeof(TypedHandlerTests.Resized))]
internal sealed partial class TypedJson : JsonSerializerContext;
