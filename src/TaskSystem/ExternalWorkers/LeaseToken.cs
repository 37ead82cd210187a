using System.Globalization;
using TaskSystem.Configuration;
using TaskSystem.Storage;

namespace TaskSystem.ExternalWorkers;

/// <summary>
/// What an external worker shows to heartbeat, complete or fail a task: the claim it holds the task under (the fencing
/// token of every transition, random, so no two claims share one) and its own name. Opaque to workers; on the wire it
/// is 16 hexadecimal digits, a dot and the worker's name. A string, because JSON numbers lose 64-bit precision in
/// JavaScript.
/// </summary>
internal readonly record struct LeaseToken(long ClaimId, string Worker)
{
    private const int ClaimDigits = 16;

    /// <summary>The task's node column while this worker holds it.</summary>
    public string Holder => ExternalHolder.For(Worker);

    public override string ToString() => ClaimId.ToString("x16", CultureInfo.InvariantCulture) + "." + Worker;

    public static bool TryParse(string? text, out LeaseToken token)
    {
        token = default;
        if (text is null || text.Length < ClaimDigits + 2 || text[ClaimDigits] != '.'
            || !long.TryParse(text.AsSpan(0, ClaimDigits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var claim)
            || claim <= 0)
        {
            return false;
        }

        var worker = text[(ClaimDigits + 1)..];
        if (TaskRules.CheckName("worker", worker) is not null)
        {
            return false;
        }

        token = new LeaseToken(claim, worker);
        return true;
    }

    /// <summary>A fresh claim: random, so that no two claims, on any node or in any run, share one.</summary>
    public static long NewClaimId() => Random.Shared.NextInt64(1, long.MaxValue);
}
