using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;
using TaskSystem.AspNetCore.Http;
using TaskSystem.Server.Security;

namespace TaskSystem.Server.Http;

/// <summary>
/// The OpenAPI 3.1 document at <c>/openapi/v1.json</c>, generated from the endpoints' own metadata (declared where
/// they are mapped), and the interactive reference at <c>/docs</c>. The document needs an API key like any data;
/// the reference's page and files hold none, so they are open, and the page asks for the key (<see cref="ApiReferenceKeyScript"/>).
/// </summary>
internal static class ApiDocumentation
{
    public const string DocumentPath = "/openapi/v1.json";
    public const string ReferencePath = "/docs";

    /// <summary>A JSON value of any kind but null.</summary>
    private const JsonSchemaType AnyJsonValue = JsonSchemaType.Object | JsonSchemaType.Array | JsonSchemaType.String | JsonSchemaType.Number | JsonSchemaType.Boolean;

    public static IServiceCollection AddApiDocumentation(this IServiceCollection services)
    {
        services.AddOpenApi("v1", options =>
        {
            options.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1;
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "TaskSystem",
                    Version = "v1",
                    Description = "A durable background task system. Every error is an RFC 9457 problem (application/problem+json) " +
                        "whose detail says what was wrong, and field when one field was. With TaskSystem:ApiKeys set, send " +
                        "'Authorization: Bearer KEY'.",
                };
                document.Components ??= new OpenApiComponents();

                // The schema transformer below misses JsonElement when the generator first meets it as an optional
                // (JsonElement?) property, and the shared component then stays unconstrained: constrain it here too.
                if (document.Components.Schemas?.TryGetValue(nameof(System.Text.Json.JsonElement), out var anyValue) == true && anyValue is OpenApiSchema schema)
                {
                    schema.Type = AnyJsonValue;
                    schema.Description ??= "Any JSON value.";
                }

                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[ApiKeyAuthenticationHandler.SchemeName] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "One of the keys of TaskSystem:ApiKeys.",
                };
                return Task.CompletedTask;
            });
            options.AddSchemaTransformer((schema, context, _) =>
            {
                // A JSON value of any kind but null: the generator writes an optional one as oneOf [null, JsonElement],
                // which with an unconstrained JsonElement would match null twice and so match neither way.
                if (context.JsonTypeInfo.Type == typeof(System.Text.Json.JsonElement))
                {
                    schema.Type = AnyJsonValue;
                    schema.Description ??= "Any JSON value.";
                }

                return Task.CompletedTask;
            });
            options.AddOperationTransformer(async (operation, context, cancellationToken) =>
            {
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                if (metadata.OfType<RequestBodyExample>().LastOrDefault() is { } example && operation.RequestBody?.Content is { } content)
                {
                    foreach (var media in content.Values)
                    {
                        media.Example = JsonNode.Parse(example.Json);
                    }
                }

                if (metadata.OfType<IAllowAnonymous>().Any())
                {
                    return;
                }

                // Every endpoint but the open ones wants a key and is rate limited: the security handler answers these.
                operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyAuthenticationHandler.SchemeName, context.Document)] = [] }];
                operation.Responses ??= [];
                IOpenApiSchema problem = context.Document?.Components?.Schemas?.ContainsKey(nameof(ProblemDetails)) == true
                    ? new OpenApiSchemaReference(nameof(ProblemDetails), context.Document)
                    : await context.GetOrCreateSchemaAsync(typeof(ProblemDetails), null, cancellationToken);
                operation.Responses.TryAdd("401", Problem("No valid API key (TaskSystem:ApiKeys).", problem));
                operation.Responses.TryAdd("429", Problem("Too many requests (TaskSystem:RateLimitPerSecond); see Retry-After.", problem));
            });
        });
        return services;
    }

    /// <summary>Maps the document (behind the API keys) and the reference (its page open, asking for the key).</summary>
    public static void MapApiDocumentation(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapOpenApi(DocumentPath).OnlyGetAndHead().ExcludeFromDescription();
        endpoints.MapMethods(ReferencePath + "/" + ApiReferenceKeyScript.FileName, [HttpMethods.Get, HttpMethods.Head],
                () => Results.Text(ApiReferenceKeyScript.Source, "text/javascript"))
            .AllowAnonymous().ExcludeFromDescription();
        endpoints.MapScalarApiReference(ReferencePath, options => options
                .WithTitle("TaskSystem API")
                .WithOpenApiRoutePattern(DocumentPath)
                .WithJavaScriptConfiguration(ReferencePath.TrimStart('/') + "/" + ApiReferenceKeyScript.FileName)
                .AddPreferredSecuritySchemes(ApiKeyAuthenticationHandler.SchemeName))
            .AnswerHeadWhereGet()
            .AllowAnonymous();
    }

    private static OpenApiResponse Problem(string description, IOpenApiSchema schema) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType> { ["application/problem+json"] = new() { Schema = schema } },
    };
}
