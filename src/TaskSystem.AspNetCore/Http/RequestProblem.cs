using Microsoft.AspNetCore.Http;

namespace TaskSystem.AspNetCore.Http;

/// <summary>What is wrong with a request, before any task exists: the status, the message, and the field it names.</summary>
internal sealed record RequestProblem(int Status, string Detail, string? Field = null)
{
    public static RequestProblem Invalid(string detail, string? field = null) => new(StatusCodes.Status400BadRequest, detail, field);
}
