namespace TaskSystem.Tests.Support;

/// <summary>Waits on a condition with a deadline, never on a fixed sleep.</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    public static async Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan? timeout = null, string? because = null)
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

            await Task.Delay(10);
        }
    }

    public static Task Until(Func<bool> condition, TimeSpan? timeout = null, string? because = null) =>
        Until(() => Task.FromResult(condition()), done => done, timeout, because);
}
