using System.Net;
using TaskSystem.Client;

namespace TaskSystem.Cli;

/// <summary>
/// What a script can rely on: each outcome has its own code, the same for every command. docs/cli.md lists them;
/// change them only with the docs and a major version.
/// </summary>
internal static class ExitCodes
{
    /// <summary>Done as asked.</summary>
    public const int Ok = 0;

    /// <summary>Anything not listed below: a 5xx answer, an answer that was not understood.</summary>
    public const int Error = 1;

    /// <summary>The command line was wrong (an unknown option, a missing argument, a payload that is not JSON).</summary>
    public const int Usage = 2;

    /// <summary>The server refused the request as invalid (400, 413): the message names the field.</summary>
    public const int Invalid = 3;

    /// <summary>No such task (404).</summary>
    public const int NotFound = 4;

    /// <summary>The task is not in a state that allows this (409): stopping a finished task, retrying one that has not failed.</summary>
    public const int Conflict = 5;

    /// <summary>The key is missing or wrong (401), or not allowed this (403).</summary>
    public const int Auth = 6;

    /// <summary>The server could not be reached (refused, unknown host, timed out).</summary>
    public const int Unreachable = 7;

    /// <summary>The server is busy: rate limited (429) or unavailable (503); try again after the time it says.</summary>
    public const int Busy = 8;

    /// <summary><c>watch</c> and <c>add --wait</c>: the task finished, but did not succeed (failed or cancelled).</summary>
    public const int TaskFailed = 9;

    /// <summary>The code an error answer of the server means.</summary>
    public static int For(TaskSystemApiException problem) => problem.StatusCode switch
    {
        HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.UnprocessableEntity => Invalid,
        HttpStatusCode.NotFound => NotFound,
        HttpStatusCode.Conflict => Conflict,
        HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => Auth,
        HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable => Busy,
        _ => Error,
    };
}
