using System.Net;
using System.Text.Json;

namespace TaskSystem.Client;

/// <summary>
/// The server answered with an error: its RFC 9457 problem details. <see cref="Field"/> names the request field at
/// fault when one was; <see cref="RetryAfter"/> says when to try again (429, 503).
/// </summary>
public sealed class TaskSystemApiException : Exception
{
    /// <summary>An exception for an error answer.</summary>
    public TaskSystemApiException(HttpStatusCode statusCode, string? title, string? detail, string? field, TimeSpan? retryAfter, JsonElement? problem)
        : base(detail ?? title ?? $"The server answered {(int)statusCode}.")
    {
        StatusCode = statusCode;
        Title = title;
        Detail = detail;
        Field = field;
        RetryAfter = retryAfter;
        Problem = problem;
    }

    /// <summary>An exception without an answer behind it.</summary>
    public TaskSystemApiException()
        : this(default, null, null, null, null, null)
    {
    }

    /// <summary>An exception with a message only.</summary>
    public TaskSystemApiException(string message)
        : base(message)
    {
    }

    /// <summary>An exception with a message and its cause.</summary>
    public TaskSystemApiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The answer's status.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>The problem's title.</summary>
    public string? Title { get; }

    /// <summary>What was wrong.</summary>
    public string? Detail { get; }

    /// <summary>The request field at fault, when one was.</summary>
    public string? Field { get; }

    /// <summary>The answer's Retry-After, when it had one.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>The whole problem as the server wrote it (with members such as <c>reason</c>), when it was JSON.</summary>
    public JsonElement? Problem { get; }
}
