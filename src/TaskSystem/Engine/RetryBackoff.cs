namespace TaskSystem.Engine;

/// <summary>Exponential backoff with jitter: base × 2^(attempt-1), capped, then scaled by a random 0.5 to 1.5.</summary>
internal static class RetryBackoff
{
    public static TimeSpan Delay(int attempt, TimeSpan baseDelay, TimeSpan maxDelay, Random random)
    {
        var exponent = Math.Clamp(attempt - 1, 0, 30);
        var ticks = Math.Min(baseDelay.Ticks * (double)(1L << exponent), maxDelay.Ticks);
        var jittered = ticks * (0.5 + random.NextDouble());
        return TimeSpan.FromTicks((long)Math.Min(jittered, maxDelay.Ticks));
    }

    /// <summary>
    /// The delay a handler asked for (<see cref="TaskFailedException.RetryAfter"/>), when it asked, else the backoff.
    /// A requested delay is taken as it is, without jitter (the receiver named the time), but bounded by
    /// <paramref name="maxDelay"/>: a receiver cannot park a task for longer than the operator allows.
    /// </summary>
    public static TimeSpan Delay(int attempt, TimeSpan? requested, TimeSpan baseDelay, TimeSpan maxDelay, Random random) =>
        requested is { } asked
            ? TimeSpan.FromTicks(Math.Clamp(asked.Ticks, 0, maxDelay.Ticks))
            : Delay(attempt, baseDelay, maxDelay, random);
}
