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
