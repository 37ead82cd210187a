using Microsoft.AspNetCore.WebUtilities;

namespace TaskSystem.Server.Http;

/// <summary>Writes an RFC 9457 problem from middleware (outside an endpoint), whatever the request's Accept header asks for.</summary>
internal static class ServerProblems
{
    public static Task WriteAsync(HttpContext context, int status, string detail)
    {
        context.Response.StatusCode = status;

        // A problem result writes JSON even when the problem-details service declines for the client's Accept header
        // (an event stream): an error must reach every client.
        return TypedResults.Problem(detail: detail, statusCode: status, title: ReasonPhrases.GetReasonPhrase(status)).ExecuteAsync(context);
    }
}
