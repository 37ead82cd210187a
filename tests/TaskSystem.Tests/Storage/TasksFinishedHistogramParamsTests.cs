using TaskSystem.Storage;

namespace TaskSystem.Tests.Storage;

/// <summary>The histogram's buckets are whole minutes: the counters behind it keep minutes.</summary>
public sealed class TasksFinishedHistogramParamsTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(30)]
    [InlineData(90)]
    [InlineData(-60)]
    public void Bucket_NotAWholeNumberOfMinutes_IsRefused(int seconds) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new TasksFinishedHistogramParams(DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(seconds)));

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(60_000, 1)]
    [InlineData(60_001, 2)]
    public void SinceMinute_IsTheFirstMinuteStartingAtOrAfterSince(long sinceMs, long minute) =>
        Assert.Equal(minute, new TasksFinishedHistogramParams(DateTimeOffset.FromUnixTimeMilliseconds(sinceMs), TimeSpan.FromMinutes(1)).SinceMinute);
}
