namespace TaskSystem;

/// <summary>When a continuation (<see cref="TaskRequest.After"/>) may run.</summary>
public enum AfterPolicy
{
    /// <summary>
    /// Once every parent has succeeded. A parent that fails for good or is cancelled cancels the continuation, with
    /// an error naming that parent (and so on down to the continuation's own continuations).
    /// </summary>
    AllSucceeded,

    /// <summary>Once every parent has finished, whatever its outcome (succeeded, failed or cancelled).</summary>
    AnyOutcome,
}

/// <summary>The wire names of <see cref="AfterPolicy"/>: <c>allSucceeded</c>, <c>anyOutcome</c>.</summary>
public static class AfterPolicies
{
    /// <summary>The name used on the wire.</summary>
    public static string ToWire(this AfterPolicy policy) => policy switch
    {
        AfterPolicy.AllSucceeded => "allSucceeded",
        AfterPolicy.AnyOutcome => "anyOutcome",
        _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, "Unknown after policy."),
    };

    /// <summary>Parses a wire name (case-insensitive); false for anything else.</summary>
    public static bool TryParse(string? value, out AfterPolicy policy)
    {
        foreach (var candidate in (ReadOnlySpan<AfterPolicy>)[AfterPolicy.AllSucceeded, AfterPolicy.AnyOutcome])
        {
            if (string.Equals(candidate.ToWire(), value, StringComparison.OrdinalIgnoreCase))
            {
                policy = candidate;
                return true;
            }
        }

        policy = default;
        return false;
    }
}
