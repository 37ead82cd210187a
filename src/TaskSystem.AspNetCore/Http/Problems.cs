using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;

namespace TaskSystem.AspNetCore.Http;

/// <summary>RFC 9457 problem details with a message that says what was wrong.</summary>
internal static class Problems
{
    public static ProblemHttpResult Create(int status, string detail, string? field = null)
    {
        var extensions = field is null ? null : new Dictionary<string, object?> { ["field"] = field };
        return TypedResults.Problem(detail: detail, statusCode: status, title: ReasonPhrases.GetReasonPhrase(status), extensions: extensions);
    }

    public static ProblemHttpResult TaskNotFound(string id) =>
        Create(StatusCodes.Status404NotFound, $"No task has the id '{id}'.");
}
