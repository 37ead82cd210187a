using Microsoft.AspNetCore.Diagnostics;
using TaskSystem.Server.Diagnostics;
using TaskSystem.Storage;

namespace TaskSystem.Server.Http;

/// <summary>
/// Turns the exceptions that mean bad input, an unreachable store or a full queue into 4xx and 503 problems;
/// anything else is a bug, logged and answered 500 without details.
/// </summary>
internal sealed class ApiExceptionHandler(ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, detail, field) = exception switch
        {
            TaskValidationException invalid => (invalid.IsTooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest, invalid.Message, invalid.Field),
            BadHttpRequestException bad => (bad.StatusCode, bad.Message, null),
            TaskStoreUnavailableException => (StatusCodes.Status503ServiceUnavailable, "The task store is unreachable right now; try again shortly.", null),
            TaskQueueFullException full => (StatusCodes.Status503ServiceUnavailable, full.Message, null),
            _ => (StatusCodes.Status500InternalServerError, "An unexpected error occurred.", (string?)null),
        };

        if (status == StatusCodes.Status500InternalServerError)
        {
            ServerLog.UnhandledError(logger, httpContext.Request.Method, httpContext.Request.Path, exception);
        }

        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            var retryAfter = exception is TaskQueueFullException { RetryAfter: var wait } ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 2;
            httpContext.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
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

        await ProblemWriter.WriteAsync(context);
        return true;
    }
}
