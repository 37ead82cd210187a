using TaskSystem.AspNetCore.Dashboard;

namespace TaskSystem.Server.Tests.Dashboard;

/// <summary>
/// How the watcher follows the cost of its reads: one slow read (the first compiles the code) must not stop the
/// dashboards for ten times its length, and a store that really got slower is followed within a few reads.
/// </summary>
public sealed class DashboardWatcherTests
{
    private static readonly TimeSpan Ms = TimeSpan.FromMilliseconds(1);

    [Fact]
    public void Follow_OneSlowRead_CountsAtMostTwiceThePreviousEstimate() =>
        Assert.Equal(10 * Ms, DashboardWatcher.Follow(5 * Ms, 1000 * Ms));

    [Fact]
    public void Follow_ACheaperRead_IsTakenAsItIs_DownToAFloor()
    {
        Assert.Equal(8 * Ms, DashboardWatcher.Follow(40 * Ms, 8 * Ms));
        Assert.Equal(5 * Ms, DashboardWatcher.Follow(40 * Ms, 1 * Ms));
    }

    [Fact]
    public void Follow_AStoreThatStaysSlow_IsReachedWithinAFewReads()
    {
        var estimate = 5 * Ms;
        var reads = 0;
        while (estimate < 300 * Ms)
        {
            estimate = DashboardWatcher.Follow(estimate, 300 * Ms);
            reads++;
        }

        Assert.Equal(300 * Ms, estimate);
        Assert.Equal(6, reads);
    }
}
