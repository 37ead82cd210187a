namespace TaskSystem.AspNetCore.Http;

/// <summary>
/// Writes problem+json whatever the request's Accept header asks for: the problem-details service writes only
/// what the client accepts, and an error must reach every client, one that asked for an event stream included.
/// </summary>
internal static class ProblemWriter
{
    public static async Task WriteAsync(ProblemDetailsContext problem)
    {
        var context = problem.HttpContext;
        if (await context.RequestServices.GetRequiredService<IProblemDetailsService>().TryWriteAsync(problem))
        {
            return;
        }

        await context.Response.WriteAsJsonAsync(problem.ProblemDetails, options: null, contentType: "application/problem+json");
    }
}
