using Microsoft.AspNetCore.Routing;

namespace TaskSystem.AspNetCore.Http;

/// <summary>
/// Which methods an endpoint answers. HTTP (RFC 9110) expects HEAD wherever GET works: the same status and headers,
/// no body (the server drops whatever the handler writes). Minimal APIs map GET alone, so HEAD would get 405, and
/// <c>Map</c> (health checks, the metrics scrape) answers every method, so POST /health/live would get 200. Each
/// area's endpoints go through one of these; a test walks every endpoint to keep it that way.
/// </summary>
internal static class HttpMethodConventions
{
    private static readonly string[] GetAndHead = [HttpMethods.Get, HttpMethods.Head];

    /// <summary>Every endpoint of <paramref name="builder"/> (a group, say) that answers GET answers HEAD too.</summary>
    public static TBuilder AnswerHeadWhereGet<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(static endpoint =>
        {
            // The method metadata of MapGet is in place before conventions run; the matcher reads the last one.
            for (var i = 0; i < endpoint.Metadata.Count; i++)
            {
                if (endpoint.Metadata[i] is IHttpMethodMetadata { HttpMethods: var methods } metadata
                    && methods.Contains(HttpMethods.Get, StringComparer.OrdinalIgnoreCase)
                    && !methods.Contains(HttpMethods.Head, StringComparer.OrdinalIgnoreCase))
                {
                    endpoint.Metadata[i] = new HttpMethodMetadata([.. methods, HttpMethods.Head], metadata.AcceptCorsPreflight);
                }
            }
        });
        return builder;
    }

    /// <summary>An endpoint mapped for every method (<c>Map</c>) answers GET and HEAD only; others get 405.</summary>
    public static TBuilder OnlyGetAndHead<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new HttpMethodMetadata(GetAndHead));
}
