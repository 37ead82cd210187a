namespace TaskSystem.Tests.Support;

/// <summary>What a test handler that runs until it is stopped uses to say it saw its cancellation.</summary>
internal static class Cancellation
{
    /// <summary>
    /// Waits until <paramref name="token"/> is cancelled, completes <paramref name="observed"/>, and ends as a cancelled
    /// handler does. Not a callback registered on the token with <c>using</c>: a token runs its callbacks most recent
    /// first, so Task.Delay's ends the handler inline and its <c>using</c> removes the test's callback before its turn.
    /// </summary>
    public static async Task ObserveAsync(TaskCompletionSource observed, CancellationToken token)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, token);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            observed.TrySetResult();
            throw;
        }
    }
}
