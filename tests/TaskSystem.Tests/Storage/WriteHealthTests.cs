using Microsoft.Extensions.Time.Testing;
using TaskSystem.Storage;

namespace TaskSystem.Tests.Storage;

/// <summary>What readiness learns about writes: a failure counts until writes go through again and a while has passed.</summary>
public sealed class WriteHealthTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void NoWriteFailedYet_CanWrite() => Assert.True(new WriteHealth(_time).Check().CanWrite);

    [Fact]
    public void LastWriteFailed_CannotWrite_HoweverLongAgo_AndSaysWhy()
    {
        var health = new WriteHealth(_time);
        health.Succeeded();
        health.Failed(new IOException("disk full"));
        _time.Advance(TimeSpan.FromHours(1));

        var report = health.Check();

        Assert.False(report.CanWrite);
        Assert.Contains("disk full", report.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void WritesGoThroughAgain_CanWriteOnceTheFailureIsOlderThanTheMemory()
    {
        var health = new WriteHealth(_time);
        health.Failed(new IOException("disk full"));
        _time.Advance(TimeSpan.FromSeconds(1));
        health.Succeeded();

        Assert.False(health.Check().CanWrite);
        _time.Advance(WriteHealth.FailureMemory - TimeSpan.FromSeconds(1) - TimeSpan.FromMilliseconds(1));
        Assert.False(health.Check().CanWrite);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(health.Check().CanWrite);
        Assert.Equal(1, health.Failures);
    }

    [Fact]
    public void SmallWritesPassingBetweenFailedOnes_DoNotMakeItFlapToReady()
    {
        var health = new WriteHealth(_time);
        for (var i = 0; i < 10; i++)
        {
            health.Failed(new IOException("insert: disk full"));
            _time.Advance(TimeSpan.FromSeconds(2));
            health.Succeeded();
            Assert.False(health.Check().CanWrite);
        }
    }
}
