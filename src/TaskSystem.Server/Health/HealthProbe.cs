namespace TaskSystem.Server.Health;

/// <summary>
/// <c>dotnet TaskSystem.Server.dll healthcheck [url]</c>: exits 0 when the url answers 2xx. Used by the Docker
/// HEALTHCHECK because the runtime image has no curl.
/// </summary>
internal static class HealthProbe
{
    public static async Task<int> RunAsync(string url)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await client.GetAsync(new Uri(url));
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or UriFormatException)
        {
            await Console.Error.WriteLineAsync($"healthcheck: {exception.Message}");
            return 1;
        }
    }
}
