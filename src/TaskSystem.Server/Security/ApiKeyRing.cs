using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using TaskSystem.Server.Configuration;

namespace TaskSystem.Server.Security;

/// <summary>
/// The configured API keys, kept only as SHA-256 hashes. A presented key is hashed and compared with every hash
/// in constant time (<see cref="CryptographicOperations.FixedTimeEquals"/> over equal lengths, no early exit), so
/// the time taken says nothing about how close a guess was, nor which key it was close to.
/// </summary>
internal sealed class ApiKeyRing
{
    private const int HashSize = 32;
    private readonly byte[][] _hashes;

    public ApiKeyRing(IOptions<ServerOptions> options) =>
        _hashes = [.. options.Value.ApiKeys.Select(key => SHA256.HashData(Encoding.UTF8.GetBytes(key)))];

    public bool IsEmpty => _hashes.Length == 0;

    /// <summary>Finds the key; <paramref name="keyId"/> is its position in the list ("key-1"...), never the key.</summary>
    public bool TryMatch(ReadOnlySpan<char> presented, out string keyId)
    {
        keyId = "";
        var maxBytes = Encoding.UTF8.GetMaxByteCount(presented.Length);
        var rented = maxBytes > 512 ? ArrayPool<byte>.Shared.Rent(maxBytes) : null;
        try
        {
            Span<byte> bytes = rented ?? stackalloc byte[512];
            var length = Encoding.UTF8.GetBytes(presented, bytes);
            Span<byte> hash = stackalloc byte[HashSize];
            SHA256.HashData(bytes[..length], hash);
            CryptographicOperations.ZeroMemory(bytes[..length]);

            var match = -1;
            for (var i = 0; i < _hashes.Length; i++)
            {
                if (CryptographicOperations.FixedTimeEquals(hash, _hashes[i]))
                {
                    match = i;
                }
            }

            if (match < 0)
            {
                return false;
            }

            keyId = "key-" + (match + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return true;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
