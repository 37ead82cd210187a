using TaskSystem.Server.Configuration;

namespace TaskSystem.Server.Health;

/// <summary>
/// <c>dotnet TaskSystem.Server.dll healthcheck [url]</c>: exits 0 when the server's <c>/health/live</c> answers 2xx.
/// Used by the Docker HEALTHCHECK because the runtime image has no curl. Without a url it probes the address the
/// server itself listens on, read from the same settings (<c>URLS</c>, <c>ASPNETCORE_URLS</c>, <c>HTTP_PORTS</c>,
/// <c>Kestrel:Endpoints</c> in appsettings.json), so the check follows a port changed by configuration.
/// </summary>
internal static class HealthProbe
{
    public static async Task<int> RunAsync(string[] arguments)
    {
        string url;
        try
        {
            url = arguments is [var first, ..] && first.Contains("://", StringComparison.Ordinal) ? first : LiveUrl(arguments);
        }
        catch (InvalidOperationException exception)
        {
            await Console.Error.WriteLineAsync($"healthcheck: {exception.Message}");
            return 1;
        }

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await client.GetAsync(new Uri(url));
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or UriFormatException)
        {
            await Console.Error.WriteLineAsync($"healthcheck: {url}: {exception.Message}");
            return 1;
        }
    }

    /// <summary>The live probe on the first plain-HTTP address the server listens on, reached through this machine.</summary>
    internal static string LiveUrl(string[] settings)
    {
        // The sources the web host reads its addresses from, in its order: appsettings, then the environment
        // (unprefixed and ASPNETCORE_), then the command line.
        var configuration = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .AddEnvironmentVariables("ASPNETCORE_")
            .AddCommandLine(settings)
            .Build();
        var address = ListenAddresses.Read(configuration).FirstOrDefault(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidOperationException("the server listens on no plain http address; pass the url to probe.");
        return Local(address).TrimEnd('/') + "/health/live";
    }

    /// <summary>A listen address as a client on this machine reaches it: wildcards and "any" addresses become localhost.</summary>
    private static string Local(string address)
    {
        var rest = address["http://".Length..];
        var hostEnd = rest.StartsWith('[') ? rest.IndexOf(']', StringComparison.Ordinal) + 1 : rest.IndexOf(':', StringComparison.Ordinal);
        if (hostEnd <= 0)
        {
            hostEnd = rest.IndexOf('/', StringComparison.Ordinal) is var slash and >= 0 ? slash : rest.Length;
        }

        var host = rest[..hostEnd];
        var local = host is "+" or "*" or "0.0.0.0" or "[::]" or "" ? "localhost" : host;
        return "http://" + local + rest[hostEnd..];
    }
}
