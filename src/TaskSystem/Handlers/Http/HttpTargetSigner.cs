using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace TaskSystem.Handlers.Http;

/// <summary>
/// Signs http task requests so a receiver can tell they come from this system and were not altered:
/// <c>TaskSystem-Timestamp: &lt;Unix seconds&gt;</c> and <c>TaskSystem-Signature: &lt;key id&gt;=&lt;hex&gt;[, ...]</c>, where each
/// signature is HMAC-SHA256, keyed with the secret's UTF-8 bytes, over the timestamp's ASCII digits, a dot, and the
/// exact body bytes sent (none for a request without a body). Every configured key signs, so receivers can move
/// from one key to the next without a moment where they refuse requests.
/// </summary>
internal sealed class HttpTargetSigner
{
    public const string TimestampHeader = "TaskSystem-Timestamp";
    public const string SignatureHeader = "TaskSystem-Signature";

    private readonly (string Id, byte[] Secret)[] _keys;

    public HttpTargetSigner(IEnumerable<HttpSigningKey> keys) =>
        _keys = [.. keys.Select(k => (k.Id, Encoding.UTF8.GetBytes(k.Secret)))];

    public bool IsEnabled => _keys.Length > 0;

    /// <summary>The two headers' values for a request sent at <paramref name="now"/> with <paramref name="body"/>.</summary>
    public (string Timestamp, string Signature) Sign(DateTimeOffset now, ReadOnlySpan<byte> body)
    {
        var timestamp = now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var message = new byte[timestamp.Length + 1 + body.Length];
        Encoding.ASCII.GetBytes(timestamp, message);
        message[timestamp.Length] = (byte)'.';
        body.CopyTo(message.AsSpan(timestamp.Length + 1));

        var signatures = new StringBuilder();
        foreach (var (id, secret) in _keys)
        {
            if (signatures.Length > 0)
            {
                signatures.Append(", ");
            }

            signatures.Append(id).Append('=').Append(Convert.ToHexStringLower(HMACSHA256.HashData(secret, message)));
        }

        return (timestamp, signatures.ToString());
    }
}
