using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Net.Http.Headers;

namespace TaskSystem.Server.Dashboard;

/// <summary>Wires the dashboard: its services, its static files, and the pokes that make writes show at once.</summary>
internal static class DashboardServiceCollectionExtensions
{
    /// <summary>
    /// The page renders what clients put in payloads and errors: it builds text nodes only, and this policy forbids
    /// any script or style that is not one of its own files.
    /// </summary>
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static IServiceCollection AddTaskSystemDashboard(this IServiceCollection services)
    {
        services.TryAddSingleton(new DashboardTimings());
        services.AddSingleton<DashboardEventHub>();
        services.AddSingleton<DashboardQueries>();
        services.AddHostedService<DashboardWatcher>();
        return services;
    }

    /// <summary>Serves wwwroot (the page at <c>/</c>, its files under <c>/dashboard/</c>), open without credentials.</summary>
    public static IApplicationBuilder UseTaskSystemDashboard(this IApplicationBuilder app)
    {
        app.UseDefaultFiles();
        app.UseStaticFiles(new StaticFileOptions
        {
            OnPrepareResponse = context =>
            {
                // No build step means no fingerprinted names: revalidate (ETag) so an upgrade is seen at once.
                var headers = context.Context.Response.Headers;
                headers.CacheControl = "no-cache";
                headers.XContentTypeOptions = "nosniff";
                headers[HeaderNames.ContentSecurityPolicy] = ContentSecurityPolicy;
                headers["Referrer-Policy"] = "no-referrer";
            },
        });

        // A write through this server wakes the watcher, so the change reaches every dashboard within milliseconds.
        var hub = app.ApplicationServices.GetRequiredService<DashboardEventHub>();
        app.Use(async (context, next) =>
        {
            await next(context);
            if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method)
                && context.Request.Path.StartsWithSegments("/tasks", StringComparison.Ordinal) && context.Response.StatusCode < 400)
            {
                hub.Poke();
            }
        });
        return app;
    }
}
