// The C# verification snippet of docs/http-targets.md, as it stands there from the class on (a test keeps the two the same).
using System.Security.Cryptography;
using System.Text;

namespace TaskSystem.Tests.Handlers.Http;

public static class TaskSystemSignature
{
    /// <summary>True when the request was signed with <paramref name="secret"/> under <paramref name="keyId"/> at most <paramref name="tolerance"/> ago.</summary>
    public static bool Verify(string? timestamp, string? signatures, byte[] body, string keyId, string secret, TimeSpan tolerance, DateTimeOffset now)
    {
        if (!long.TryParse(timestamp, out var seconds) || Math.Abs(now.ToUnixTimeSeconds() - seconds) > tolerance.TotalSeconds)
        {
            return false;
        }

        byte[] message = [.. Encoding.ASCII.GetBytes(timestamp + "."), .. body];
        var expected = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message)));
        foreach (var pair in (signatures ?? "").Split(',', StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split('=', 2);
            if (parts.Length == 2 && parts[0] == keyId && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(parts[1]), expected))
            {
                return true;
            }
        }

        return false;
    }
}
