using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using TaskSystem.ExternalWorkers;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.ExternalWorkers;

/// <summary>The small parts of the worker protocol: lease tokens, wake-up signals, the settings' checks.</summary>
public sealed class WorkerProtocolPartsTests
{
    [Fact]
    public void LeaseToken_RoundTrips_AndKeepsAll64Bits()
    {
        var token = new LeaseToken(long.MaxValue - 7, "py-1.eu:a_b");

        Assert.Equal("7ffffffffffffff8.py-1.eu:a_b", token.ToString());
        Assert.True(LeaseToken.TryParse(token.ToString(), out var parsed));
        Assert.Equal(token, parsed);
        Assert.Equal("worker:py-1.eu:a_b", parsed.Holder);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("123")]
    [InlineData("00000000000000ab")]
    [InlineData("00000000000000ab.")]
    [InlineData("00000000000000abXw")]
    [InlineData("0000000000000000.w")]
    [InlineData("ffffffffffffffff.w")]
    [InlineData("zzzzzzzzzzzzzzzz.w")]
    [InlineData("00000000000000ab.has space")]
    public void LeaseToken_Malformed_IsRefused(string? text) => Assert.False(LeaseToken.TryParse(text, out _));

    [Fact]
    public async Task WorkerSignals_TasksReady_WakesEveryWaiter_AndOnlyWaitsTakenBeforeIt()
    {
        var signals = new WorkerSignals();
        var time = new FakeTimeProvider();
        var first = signals.NextTasksReady();
        var second = signals.NextTasksReady();
        var waits = new[] { first, second }.Select(ready => signals.WaitTasksReadyAsync(ready, TimeSpan.FromHours(1), time, CancellationToken.None)).ToArray();

        signals.TasksReady();

        var woken = await Task.WhenAll(waits).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.All(woken, Assert.True);
        Assert.False(signals.NextTasksReady().IsCompleted);
    }

    [Fact]
    public async Task WorkerSignals_ADueTime_EndsTheWaitThen()
    {
        var signals = new WorkerSignals();
        var time = new FakeTimeProvider();
        var wait = signals.WaitTasksReadyAsync(signals.NextTasksReady(), TimeSpan.FromHours(1), time, CancellationToken.None);
        signals.TasksReadyAt(time.GetUtcNow().AddSeconds(10));
        var due = signals.WaitTasksReadyAsync(signals.NextTasksReady(), TimeSpan.FromHours(1), time, CancellationToken.None);

        time.Advance(TimeSpan.FromSeconds(10));

        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.False(await due.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Theory]
    [InlineData(new[] { "demo" }, "test-node", "which a handler on this node runs")]
    [InlineData(new[] { "bad name" }, "test-node", "may contain only")]
    [InlineData(new[] { "*" }, "worker:x", "must not start with 'worker:'")]
    public void Settings_ThatWouldMixHandlersAndWorkers_StopTheStart(string[] types, string node, string message)
    {
        var error = Assert.Throws<OptionsValidationException>(() => EngineHost.Create(b => b.AddHandler("demo", (_, _) => Task.CompletedTask), o =>
        {
            o.ExternalTypes = types;
            o.NodeName = node;
        }));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
