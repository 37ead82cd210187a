using System.Net;

namespace TaskSystem.Server.Configuration;

/// <summary>
/// Where the server will listen, read from configuration the way Kestrel reads it: <c>urls</c> (<c>--urls</c>,
/// <c>URLS</c>, <c>ASPNETCORE_URLS</c>), else <c>http_ports</c> / <c>https_ports</c> (every interface), plus the
/// <c>Kestrel:Endpoints</c> section.
/// </summary>
internal static class ListenAddresses
{
    /// <summary>The address the server uses when none is configured: the seed's port, this machine only.</summary>
    public const string Default = "http://localhost:4000";

    public static bool IsConfigured(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["urls"])
        || !string.IsNullOrWhiteSpace(configuration["http_ports"])
        || !string.IsNullOrWhiteSpace(configuration["https_ports"]);

    public static IReadOnlyList<string> Read(IConfiguration configuration)
    {
        var addresses = new List<string>();
        if (configuration["urls"] is { } urls && !string.IsNullOrWhiteSpace(urls))
        {
            addresses.AddRange(urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }
        else
        {
            addresses.AddRange(Ports(configuration["http_ports"], "http"));
            addresses.AddRange(Ports(configuration["https_ports"], "https"));
        }

        foreach (var endpoint in configuration.GetSection("Kestrel:Endpoints").GetChildren())
        {
            if (endpoint["Url"] is { } url && !string.IsNullOrWhiteSpace(url))
            {
                addresses.Add(url.Trim());
            }
        }

        return addresses.Count == 0 ? [Default] : addresses;
    }

    /// <summary>
    /// True when only this machine can connect: <c>localhost</c>, <c>127.x.x.x</c>, <c>[::1]</c>, or a Unix socket.
    /// <c>+</c>, <c>*</c>, <c>0.0.0.0</c>, <c>[::]</c>, a host name and any other address listen beyond it; so does
    /// an address that cannot be parsed (assume the worst).
    /// </summary>
    public static bool IsLoopback(string address)
    {
        var schemeEnd = address.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd < 0)
        {
            return false;
        }

        var rest = address[(schemeEnd + 3)..];
        if (rest.StartsWith("unix:", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        var hostEnd = rest.IndexOfAny(['/', '?', '#']);
        var authority = hostEnd < 0 ? rest : rest[..hostEnd];
        string host;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return false;
            }

            host = authority[1..close];
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            host = colon < 0 ? authority : authority[..colon];
        }

        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip);
    }

    private static IEnumerable<string> Ports(string? ports, string scheme) =>
        (ports ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(port => $"{scheme}://*:{port}");
}
