using System.Text.Json;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Engine;

/// <summary>The public API's validation and paging.</summary>
public sealed class TaskManagerTests : IAsyncLifetime
{
    private EngineHost _host = null!;

    public async Task InitializeAsync() =>
        _host = await EngineHost.StartAsync(b => b.AddHandler("t", (_, _) => Task.CompletedTask), o =>
        {
            o.MaxPayloadBytes = 1000;
            o.PollInterval = TimeSpan.FromHours(1);
            o.Concurrency = 1;
        });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    public static TheoryData<string, Func<TaskRequest, TaskRequest>> InvalidRequests => new()
    {
        { "type", r => r with { Type = "nope" } },
        { "type", r => r with { Type = "" } },
        { "payload", r => r with { Payload = JsonSerializer.SerializeToElement(new[] { 1 }) } },
        { "queue", r => r with { Queue = "has space" } },
        { "priority", r => r with { Priority = 5000 } },
        { "maxAttempts", r => r with { MaxAttempts = 0 } },
        { "timeoutSeconds", r => r with { Timeout = TimeSpan.Zero } },
    };

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public async Task Enqueue_InvalidRequest_ThrowsNamingTheField(string field, Func<TaskRequest, TaskRequest> change)
    {
        var error = await Assert.ThrowsAsync<TaskValidationException>(() => _host.Manager.EnqueueAsync(change(new TaskRequest("t"))));

        Assert.Equal(field, error.Field);
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }

    [Fact]
    public async Task Enqueue_PayloadOverTheLimit_IsTooLarge()
    {
        var error = await Assert.ThrowsAsync<TaskValidationException>(() => _host.EnqueueAsync("t", new { blob = new string('x', 2000) }));

        Assert.True(error.IsTooLarge);
        Assert.Contains("limit is 1000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enqueue_PayloadNestedDeeperThanTheLimit_IsRefused_AndOneAtTheLimitReadsBack()
    {
        static JsonElement Nested(int depth) => JsonDocument.Parse(
            string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth),
            new JsonDocumentOptions { MaxDepth = 500 }).RootElement;

        var error = await Assert.ThrowsAsync<TaskValidationException>(() => _host.Manager.EnqueueAsync(new TaskRequest("t") { Payload = Nested(65) }));
        var accepted = await _host.Manager.EnqueueAsync(new TaskRequest("t") { Payload = Nested(64) });

        Assert.Contains("nested deeper than 64", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTooLarge);
        Assert.Equal(accepted.Id, (await _host.Manager.GetAsync(accepted.Id))!.Id);
    }

    [Fact]
    public async Task Enqueue_TypedPayload_IsSerializedCamelCase()
    {
        var task = await _host.Manager.EnqueueAsync("t", new { UserName = "jean" });

        Assert.Equal("jean", task.Payload.GetProperty("userName").GetString());
    }

    [Fact]
    public async Task List_PagesThroughEverythingOnce_NewestFirst()
    {
        await _host.Host.StopAsync();
        var ids = (await _host.Manager.EnqueueManyAsync(Enumerable.Range(0, 7).Select(_ => new TaskRequest("t")))).Select(t => t.Id).ToList();

        var seen = new List<long>();
        string? cursor = null;
        do
        {
            var page = await _host.Manager.ListAsync(new TaskListQuery([TaskState.Queued], Limit: 3, Cursor: cursor));
            Assert.InRange(page.Tasks.Count, 1, 3);
            seen.AddRange(page.Tasks.Select(t => t.Id));
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        Assert.Equal(ids.AsEnumerable().Reverse(), seen);
    }

    [Theory]
    [InlineData(0, null)]
    [InlineData(1001, null)]
    [InlineData(10, "abc")]
    [InlineData(10, "-5")]
    public async Task List_BadLimitOrCursor_Throws(int limit, string? cursor) =>
        await Assert.ThrowsAsync<TaskValidationException>(() => _host.Manager.ListAsync(new TaskListQuery(Limit: limit, Cursor: cursor)));

    [Fact]
    public async Task Retry_Unknown_IsNotFound() =>
        Assert.Equal(RetryOutcome.NotFound, (await _host.Manager.RetryAsync(999)).Outcome);
}
