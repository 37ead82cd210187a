namespace TaskSystem.Server.Http;

/// <summary>The services behind the HTTP API: problem details everywhere, source-generated JSON.</summary>
internal static class HttpApiServiceCollectionExtensions
{
    public static IServiceCollection AddTaskSystemHttpApi(this IServiceCollection services)
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
        services.AddExceptionHandler<ApiExceptionHandler>();
        services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.TypeInfoResolverChain.Insert(0, ServerJsonContext.Default);

            // Payloads and results were checked against TaskSystem:MaxJsonDepth when stored; a task wraps them deeper.
            options.SerializerOptions.MaxDepth = JsonLimits.ReadBack.MaxDepth;
        });
        services.AddHealthChecks().AddCheck<Health.StoreHealthCheck>("store", tags: ["ready"]);
        return services;
    }
}
