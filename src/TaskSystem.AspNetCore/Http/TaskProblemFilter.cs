using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using TaskSystem.Storage;

namespace TaskSystem.AspNetCore.Http;

/// <summary>
/// Turns the exceptions that mean bad input, an unreachable store or a full queue into 4xx and 503 problems on
/// TaskSystem's own endpoints, whatever exception handling the app has (or has not) set up. Anything else is the
/// app's to handle: it is a bug.
/// </summary>
internal static class TaskProblemFilter
{
    /// <summary>How long a client should wait after the store failed to answer.</summary>
    private const int StoreRetryAfterSeconds = 2;

    public static async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (Exception exception) when (ToProblem(exception, context.HttpContext.Response) is { } problem)
        {
            return problem;
        }
    }

    /// <summary>The problem an exception means, or null when it is not one of TaskSystem's expected failures.</summary>
    public static ProblemHttpResult? ToProblem(Exception exception, HttpResponse response)
    {
        switch (exception)
        {
            case TaskValidationException invalid:
                return Problems.Create(invalid.IsTooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest, invalid.Message, invalid.Field);
            case BadHttpRequestException bad:
                return Problems.Create(bad.StatusCode, bad.Message);
            case TaskStoreUnavailableException:
                response.Headers.RetryAfter = StoreRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return Problems.Create(StatusCodes.Status503ServiceUnavailable, "The task store is unreachable right now; try again shortly.");
            case TaskQueueFullException full:
                response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(full.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                return Problems.Create(StatusCodes.Status503ServiceUnavailable, full.Message);
            default:
                return null;
        }
    }
}
