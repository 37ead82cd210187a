using Microsoft.Extensions.Time.Testing;
using TaskSystem.Storage;

namespace TaskSystem.Tests.Storage;

/// <summary>What readiness learns about writes: not ready while a write failed within the memory.</summary>
public sealed class WriteHealthTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void NoWriteFailedYet_CanWrite() => Assert.True(new WriteHealth(_time).Check().CanWrite);

    [Fact]
    public void AWriteFailed_CannotWrite_UntilTheFailureIsOlderThanTheMemory_AndSaysWhy()
    {
        var health = new WriteHealth(_time, TimeSpan.FromSeconds(15));
        health.Failed(new IOException("disk full"));

        var report = health.Check();
        Assert.False(report.CanWrite);
        Assert.Contains("disk full", report.Description, StringComparison.Ordinal);

        _time.Advance(TimeSpan.FromSeconds(15) - TimeSpan.FromMilliseconds(1));
        Assert.False(health.Check().CanWrite);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(health.Check().CanWrite);
        Assert.Equal(1, health.Failures);
    }

    [Fact]
    public void WritesFailingAtEachHeartbeat_KeepItNotReadyBetweenThem()
    {
        var heartbeat = TimeSpan.FromSeconds(10);
        var health = new WriteHealth(_time, WriteHealth.MemoryFor(heartbeat));
        for (var i = 0; i < 6; i++)
        {
            health.Failed(new IOException("heartbeat: disk full"));
            for (var second = 0; second < 10; second++)
            {
                Assert.False(health.Check().CanWrite);
                _time.Advance(heartbeat / 10);
            }
        }
    }

    [Fact]
    public void Memory_OutlastsTheHeartbeatInterval() =>
        Assert.Equal(TimeSpan.FromSeconds(15), WriteHealth.MemoryFor(TimeSpan.FromSeconds(10)));
}
