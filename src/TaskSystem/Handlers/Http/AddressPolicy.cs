using System.Net;
using System.Net.Sockets;

namespace TaskSystem.Handlers.Http;

/// <summary>
/// Which addresses an http task may connect to when private networks are not allowed: public unicast only. The rest
/// reach the server itself, its network or its cloud's metadata service (169.254.169.254), which a task's URL must
/// never be a way into. IPv6 addresses that carry an IPv4 address (mapped, NAT64, 6to4) are judged by that address.
/// </summary>
internal static class AddressPolicy
{
    /// <summary>What kind of non-public address <paramref name="address"/> is, or null when it is public.</summary>
    public static string? Classify(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && EmbeddedIPv4(address) is { } embedded)
        {
            address = embedded;
        }

        return address.AddressFamily switch
        {
            AddressFamily.InterNetwork => ClassifyV4(address.GetAddressBytes()),
            AddressFamily.InterNetworkV6 => ClassifyV6(address),
            _ => "not an IP address",
        };
    }

    private static string? ClassifyV4(byte[] b) => b switch
    {
        [0, ..] => "unspecified",
        [127, ..] => "loopback",
        [10, ..] => "private",
        [172, >= 16 and <= 31, ..] => "private",
        [192, 168, ..] => "private",
        [100, >= 64 and <= 127, ..] => "private (shared address space)",
        [169, 254, ..] => "link-local",
        [>= 224 and <= 239, ..] => "multicast",
        [>= 240, ..] => "reserved or broadcast",
        _ => null,
    };

    private static string? ClassifyV6(IPAddress address)
    {
        if (address.Equals(IPAddress.IPv6Any))
        {
            return "unspecified";
        }

        if (address.Equals(IPAddress.IPv6Loopback))
        {
            return "loopback";
        }

        var b = address.GetAddressBytes();
        return b switch
        {
            [0xfe, >= 0x80 and <= 0xbf, ..] => "link-local",
            [0xfe, >= 0xc0, ..] => "private (site-local)",
            [>= 0xfc and <= 0xfd, ..] => "private",
            [0xff, ..] => "multicast",
            _ => null,
        };
    }

    /// <summary>The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address.</summary>
    private static IPAddress? EmbeddedIPv4(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        var b = address.GetAddressBytes();
        if (b is [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, ..])
        {
            return new IPAddress(b.AsSpan(12, 4));
        }

        return b is [0x20, 0x02, ..] ? new IPAddress(b.AsSpan(2, 4)) : null;
    }
}
