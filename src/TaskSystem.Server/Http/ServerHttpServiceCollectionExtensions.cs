namespace TaskSystem.Server.Http;

/// <summary>The server's own HTTP settings around TaskSystem's endpoints: problem details everywhere, readiness checks.</summary>
internal static class ServerHttpServiceCollectionExtensions
{
    public static IServiceCollection AddServerHttp(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            // Status-code pages (unknown route, wrong method) carry no message of their own: say what was asked.
            var request = context.HttpContext.Request;
            context.ProblemDetails.Detail ??= context.ProblemDetails.Status switch
            {
                StatusCodes.Status404NotFound => $"Nothing is served at {request.Method} {request.Path}. The API is under /tasks.",
                StatusCodes.Status405MethodNotAllowed => $"{request.Method} is not allowed on {request.Path}.",
                _ => null,
            };
        });
        services.AddExceptionHandler<ServerExceptionHandler>();
        services.AddHealthChecks().AddTaskSystem("ready");
        return services;
    }
}
