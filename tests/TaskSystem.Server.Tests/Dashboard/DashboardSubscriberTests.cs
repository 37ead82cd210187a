using System.Text.Json.Serialization.Metadata;
using TaskSystem.AspNetCore.Dashboard;
using TaskSystem.AspNetCore.Http;

namespace TaskSystem.Server.Tests.Dashboard;

/// <summary>What a slow client costs: at most the latest event of each name, however many were published.</summary>
public sealed class DashboardSubscriberTests
{
    private static JsonTypeInfo<StatsResponse> StatsType => ApiJsonContext.Default.StatsResponse;

    private static StatsResponse Stats(long newest) =>
        new(DateTimeOffset.UnixEpoch, newest, newest, new Dictionary<string, long> { ["queued"] = newest });

    [Fact]
    public void Publish_ToASubscriberThatDoesNotRead_KeepsOnlyTheLatestEventOfEachName()
    {
        var hub = new DashboardEventHub();
        using var slow = hub.Subscribe()!;

        for (var i = 1; i <= 1000; i++)
        {
            hub.Publish("stats", Stats(i), StatsType);
        }

        hub.Publish("overview", Stats(5), StatsType);

        var pending = slow.Take();
        Assert.Equal(["stats", "overview"], pending.Select(e => e.Name));
        Assert.Contains("\"newestId\":1000", System.Text.Encoding.UTF8.GetString(pending[0].Frame), StringComparison.Ordinal);
        Assert.Empty(slow.Take());
    }

    [Fact]
    public void Subscribe_WhileOthersWatch_GetsTheLatestStatsThenOverviewAtOnce_WithIdsThatKeepIncreasing()
    {
        var hub = new DashboardEventHub();
        using var first = hub.Subscribe()!;
        hub.Publish("stats", Stats(1), StatsType);
        hub.Publish("overview", Stats(2), StatsType);
        hub.Publish("stats", Stats(3), StatsType);
        hub.Publish("stats", Stats(99), StatsType, to: [first]);

        using var second = hub.Subscribe()!;

        var pending = second.Take().Select(e => System.Text.Encoding.UTF8.GetString(e.Frame)).ToList();
        Assert.Equal(2, pending.Count);
        Assert.StartsWith("id: 5\nevent: stats\n", pending[0], StringComparison.Ordinal);
        Assert.Contains("\"newestId\":3", pending[0], StringComparison.Ordinal);
        Assert.StartsWith("id: 6\nevent: overview\n", pending[1], StringComparison.Ordinal);
        Assert.False(second.IsNew);
    }

    [Fact]
    public void Subscribe_AfterTheWatcherForgot_OrBeforeAnOverview_WaitsForTheNextTick()
    {
        var hub = new DashboardEventHub();
        using (hub.Subscribe())
        {
            hub.Publish("stats", Stats(1), StatsType);
            using var beforeOverview = hub.Subscribe()!;
            Assert.Empty(beforeOverview.Take());
            Assert.True(beforeOverview.IsNew);
            hub.Publish("overview", Stats(1), StatsType);
        }

        hub.Forget();
        using var later = hub.Subscribe()!;

        Assert.Empty(later.Take());
        Assert.True(later.IsNew);
    }

    [Fact]
    public void Subscribe_PastTheLimit_IsRefused_AndADisposedStreamFreesItsPlace()
    {
        var hub = new DashboardEventHub();
        var streams = Enumerable.Range(0, DashboardEventHub.MaxSubscribers).Select(_ => hub.Subscribe()!).ToList();

        Assert.Null(hub.Subscribe());
        streams[0].Dispose();
        using var again = hub.Subscribe();
        Assert.NotNull(again);
        Assert.Equal(DashboardEventHub.MaxSubscribers, hub.Count);
        streams.ForEach(s => s.Dispose());
    }

    [Fact]
    public async Task Frame_IsOneServerSentEvent_WithIdNameAndOneDataLine()
    {
        var hub = new DashboardEventHub();
        using var stream = hub.Subscribe()!;

        hub.Publish("stats", Stats(7), StatsType);

        Assert.True(await stream.WaitAsync(TimeSpan.FromSeconds(1), TimeProvider.System, CancellationToken.None));
        var text = System.Text.Encoding.UTF8.GetString(Assert.Single(stream.Take()).Frame);
        Assert.Matches("^id: \\d+\nevent: stats\ndata: \\{[^\n]*\\}\n\n$", text);
    }
}
