using System.Net.Http.Headers;
using TaskSystem.Client;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="TaskSystemClient"/> for a remote TaskSystem server.</summary>
public static class TaskSystemClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="TaskSystemClient"/> as a typed client of IHttpClientFactory, for the server at
    /// <paramref name="baseUri"/> (the API's prefix included when not the root), sending <paramref name="apiKey"/> as
    /// <c>Authorization: Bearer KEY</c> when given. Unlike <c>AddTaskSystem</c> (the engine in this process), nothing
    /// runs here: every call is an HTTP request.
    /// </summary>
    /// <returns>The client's builder, for handlers, resilience and timeouts.</returns>
    public static IHttpClientBuilder AddTaskSystemHttpClient(this IServiceCollection services, Uri baseUri, string? apiKey = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(baseUri);
        var address = baseUri.AbsoluteUri.EndsWith('/') ? baseUri : new Uri(baseUri.AbsoluteUri + "/");
        return services.AddHttpClient<TaskSystemClient>(http =>
        {
            http.BaseAddress = address;
            if (!string.IsNullOrEmpty(apiKey))
            {
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
            }
        });
    }
}
