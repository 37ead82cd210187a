using Microsoft.AspNetCore.Diagnostics;
using TaskSystem.Server.Diagnostics;

namespace TaskSystem.Server.Http;

/// <summary>
/// The last resort: TaskSystem's endpoints answer their own expected failures (bad input, an unreachable store, a
/// full queue); what reaches here is a request the server could not read (its status kept) or a bug (logged, 500
/// without details).
/// </summary>
internal sealed class ServerExceptionHandler(ILogger<ServerExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is BadHttpRequestException bad)
        {
            await ServerProblems.WriteAsync(httpContext, bad.StatusCode, bad.Message);
            return true;
        }

        ServerLog.UnhandledError(logger, httpContext.Request.Method, httpContext.Request.Path, exception);
        await ServerProblems.WriteAsync(httpContext, StatusCodes.Status500InternalServerError, "An unexpected error occurred.");
        return true;
    }
}
