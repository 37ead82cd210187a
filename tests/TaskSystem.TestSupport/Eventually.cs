namespace TaskSystem.TestSupport;

/// <summary>Waits on a condition with a deadline, never on a fixed sleep.</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(10);

    /// <param name="probe">Reads the value (a query, an HTTP call).</param>
    /// <param name="done">True once the value is the one waited for.</param>
    /// <param name="timeout">How long to wait (<see cref="DefaultTimeout"/> when null).</param>
    /// <param name="because">What is waited for, for the failure message.</param>
    /// <param name="interval">The pause between probes (10 ms when null); longer for costly probes.</param>
    public static async Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan? timeout = null, string? because = null, TimeSpan? interval = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
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

            await Task.Delay(interval ?? DefaultInterval);
        }
    }

    public static Task Until(Func<bool> condition, TimeSpan? timeout = null, string? because = null) =>
        Until(() => Task.FromResult(condition()), done => done, timeout, because);
}
