using Microsoft.Extensions.Time.Testing;

namespace TaskSystem.TestSupport;

/// <summary>Moving a fake clock when the timers it must fire may not exist yet.</summary>
public static class FakeClock
{
    /// <summary>
    /// Advances <paramref name="time"/> one <paramref name="step"/> at a time until <paramref name="done"/> holds.
    /// A handler signals its start a moment before its attempt arms the timeout and grace timers: a single
    /// <see cref="FakeTimeProvider.Advance"/> right after that signal can come before the timers exist and fire nothing.
    /// </summary>
    public static Task AdvanceUntilAsync(this FakeTimeProvider time, TimeSpan step, Func<Task<bool>> done, string? because = null) =>
        Eventually.Until(async () =>
        {
            if (await done())
            {
                return true;
            }

            time.Advance(step);
            return await done();
        }, reached => reached, because: because);

    public static Task AdvanceUntilAsync(this FakeTimeProvider time, TimeSpan step, Func<bool> done, string? because = null) =>
        time.AdvanceUntilAsync(step, () => Task.FromResult(done()), because);

    /// <summary>
    /// Advances <paramref name="time"/> one <paramref name="step"/> at a time until what <paramref name="probe"/>
    /// reads satisfies <paramref name="done"/>, and returns it (a task's row once a rescue or a retry moved it, say).
    /// </summary>
    public static Task<T> AdvanceUntilAsync<T>(this FakeTimeProvider time, TimeSpan step, Func<Task<T>> probe, Func<T, bool> done, string? because = null) =>
        Eventually.Until(async () =>
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }

            time.Advance(step);
            return await probe();
        }, done, because: because);
}
