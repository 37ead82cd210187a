using Microsoft.AspNetCore.Diagnostics;
using TaskSystem.Server.Diagnostics;
using TaskSystem.Storage;

namespace TaskSystem.Server.Http;

/// <summary>
/// Turns the exceptions that mean bad input or an unreachable store into 4xx and 503 problems;
/// anything else is a bug, logged and answered 500 without details.
/// </summary>
internal sealed class ApiExceptionHandler(IProblemDetailsService problems, ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, detail, field) = exception switch
        {
            TaskValidationException invalid => (invalid.IsTooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest, invalid.Message, invalid.Field),
            BadHttpRequestException bad => (bad.StatusCode, bad.Message, null),
            TaskStoreUnavailableException => (StatusCodes.Status503ServiceUnavailable, "The task store is unreachable right now; try again shortly.", null),
            _ => (StatusCodes.Status500InternalServerError, "An unexpected error occurred.", (string?)null),
        };

        if (status == StatusCodes.Status500InternalServerError)
        {
            ServerLog.UnhandledError(logger, httpContext.Request.Method, httpContext.Request.Path, exception);
        }

        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            httpContext.Response.Headers.RetryAfter = "2";
        }

        httpContext.Response.StatusCode = status;
        var context = new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails =
            {
                Status = status,
                Title = Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status),
                Detail = detail,
            },
        };
        if (field is not null)
        {
            context.ProblemDetails.Extensions["field"] = field;
        }

        return await problems.TryWriteAsync(context);
    }
}
