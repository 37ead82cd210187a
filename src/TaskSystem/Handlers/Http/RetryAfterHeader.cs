using System.Net.Http.Headers;

namespace TaskSystem.Handlers.Http;

/// <summary>Reads a <c>Retry-After</c> header: seconds, or an HTTP date.</summary>
internal static class RetryAfterHeader
{
    /// <summary>How long to wait from <paramref name="now"/>, or null when the header is missing or unreadable.</summary>
    public static TimeSpan? Delay(RetryConditionHeaderValue? header, DateTimeOffset now) => header switch
    {
        { Delta: { } delta } => delta < TimeSpan.Zero ? TimeSpan.Zero : delta,
        { Date: { } date } => date > now ? date - now : TimeSpan.Zero,
        _ => null,
    };
}
