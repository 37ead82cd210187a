using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using TaskSystem.Engine;
using TaskSystem.Storage;
using TaskSystem.TestSupport;

namespace TaskSystem.Tests.Engine;

/// <summary>Coalescing: at most one write per task per second, the last report always written, each write fenced.</summary>
public sealed class TaskProgressReporterTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly LockedCollection<TaskProgressSetParams> _writes = new();
    private bool _held = true;

    private TaskProgressReporter Reporter() => new((p, _) =>
    {
        _writes.Add(p);
        return Task.FromResult(_held);
    }, id: 7, holder: "n1", claimId: 3, _time, NullLogger.Instance);

    [Fact]
    public async Task ManyReportsWithinASecond_WriteTheFirstAtOnce_AndOnlyTheLastOneASecondLater()
    {
        var reporter = Reporter();

        await reporter.ReportAsync(1, "first");
        for (var i = 2; i <= 100; i++)
        {
            await reporter.ReportAsync(i, $"step {i}");
        }

        Assert.Equal([(1d, "first")], _writes.Snapshot().Select(w => (w.Percent, w.Message)));
        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Single(_writes.Snapshot());
        await _time.AdvanceUntilAsync(TimeSpan.FromMilliseconds(1), () => _writes.Count == 2, "the last report is written once the second is up");
        Assert.Equal((100d, "step 100", 7L, "n1", 3L), (_writes.Snapshot()[1].Percent, _writes.Snapshot()[1].Message, _writes.Snapshot()[1].Id, _writes.Snapshot()[1].Node, _writes.Snapshot()[1].ClaimId));

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(2, _writes.Count);
    }

    [Fact]
    public async Task Flush_WritesTheWaitingReport_AtOnce_AndLaterReportsAreDropped()
    {
        var reporter = Reporter();
        await reporter.ReportAsync(10, "a");
        await reporter.ReportAsync(90, "almost");

        await reporter.FlushAsync();
        await reporter.ReportAsync(95, "after the end");
        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal([10d, 90d], _writes.Snapshot().Select(w => w.Percent));
    }

    [Fact]
    public async Task AReportAfterAQuietSecond_IsWrittenAtOnce()
    {
        var reporter = Reporter();
        await reporter.ReportAsync(10, null);
        _time.Advance(TimeSpan.FromSeconds(3));

        await reporter.ReportAsync(20, null);

        Assert.Equal([10d, 20d], _writes.Snapshot().Select(w => w.Percent));
    }

    [Fact]
    public async Task AWriteTheFenceRefuses_EndsReporting()
    {
        _held = false;
        var reporter = Reporter();

        await reporter.ReportAsync(10, null);
        _time.Advance(TimeSpan.FromSeconds(3));
        await reporter.ReportAsync(20, null);
        await reporter.FlushAsync();

        Assert.True(reporter.Lost);
        Assert.Single(_writes.Snapshot());
    }
}
