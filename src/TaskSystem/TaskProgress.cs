namespace TaskSystem;

/// <summary>How far a running task is, as its handler (or external worker) last reported.</summary>
/// <param name="Percent">From 0 to 100.</param>
/// <param name="Message">What it was doing, or null.</param>
/// <param name="At">When it was reported.</param>
/// <param name="Attempt">The attempt that reported it: an earlier attempt's progress stays until the current one reports.</param>
public sealed record TaskProgress(double Percent, string? Message, DateTimeOffset At, int Attempt)
{
    /// <summary>The longest message kept, in characters: a longer one is cut to this length.</summary>
    public const int MaxMessageLength = 1000;
}
