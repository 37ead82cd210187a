namespace TaskSystem.TestSupport;

/// <summary>Waits on a condition with a deadline, never on a fixed sleep.</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan FirstInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Where the default pause stops growing: a long wait probes 20 times a second instead of 100 (most probes are
    /// HTTP calls or queries, and hundreds of waits run at once in the full suite), a short one is as quick as before.
    /// </summary>
    private static readonly TimeSpan LastInterval = TimeSpan.FromMilliseconds(50);

    /// <param name="probe">Reads the value (a query, an HTTP call).</param>
    /// <param name="done">True once the value is the one waited for.</param>
    /// <param name="timeout">How long to wait (<see cref="DefaultTimeout"/> when null).</param>
    /// <param name="because">What is waited for, for the failure message.</param>
    /// <param name="interval">The pause between probes; when null, 10 ms growing by half each probe up to 50 ms.</param>
    public static async Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan? timeout = null, string? because = null, TimeSpan? interval = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        var pause = interval ?? FirstInterval;
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Condition not met within {timeout ?? DefaultTimeout}: {because ?? "(no description)"}. Last value: {value}");
            }

            await Task.Delay(pause);
            if (interval is null)
            {
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 3 / 2, LastInterval.Ticks));
            }
        }
    }

    public static Task Until(Func<bool> condition, TimeSpan? timeout = null, string? because = null) =>
        Until(() => Task.FromResult(condition()), done => done, timeout, because);
}
