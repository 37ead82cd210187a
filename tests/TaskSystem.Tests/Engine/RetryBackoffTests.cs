using TaskSystem.Engine;

namespace TaskSystem.Tests.Engine;

public sealed class RetryBackoffTests
{
    private static readonly TimeSpan Base = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Max = TimeSpan.FromMinutes(10);

    [Fact]
    public void Delay_WithARequestedDelay_TakesItWithoutJitter()
    {
        var delays = Enumerable.Range(0, 20).Select(_ => RetryBackoff.Delay(3, TimeSpan.FromSeconds(42), Base, Max, Random.Shared));

        Assert.All(delays, d => Assert.Equal(TimeSpan.FromSeconds(42), d));
    }

    [Fact]
    public void Delay_WithARequestedDelayOutOfBounds_IsClampedBetweenZeroAndTheMaximum()
    {
        Assert.Equal(Max, RetryBackoff.Delay(1, TimeSpan.FromDays(30), Base, Max, Random.Shared));
        Assert.Equal(TimeSpan.Zero, RetryBackoff.Delay(1, TimeSpan.FromSeconds(-5), Base, Max, Random.Shared));
    }

    [Fact]
    public void Delay_WithoutARequestedDelay_IsTheJitteredBackoff()
    {
        var delays = Enumerable.Range(0, 50).Select(_ => RetryBackoff.Delay(3, null, Base, Max, Random.Shared)).ToList();

        Assert.All(delays, d => Assert.InRange(d, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(6)));
        Assert.True(delays.Distinct().Count() > 1, "the backoff is jittered");
    }
}
