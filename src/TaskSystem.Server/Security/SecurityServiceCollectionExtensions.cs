using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using TaskSystem.Server.Configuration;
using TaskSystem.Server.Http;

namespace TaskSystem.Server.Security;

/// <summary>
/// Who may call the server, and how fast. With keys set, a fallback authorization policy requires one on every
/// endpoint, including any mapped later; only the health probes opt out (<c>AllowAnonymous</c>), and static files
/// served before <see cref="UseTaskSystemSecurity"/> (the dashboard's HTML, JS and CSS, which hold no data).
/// A request without a route needs a key too, so a stranger learns nothing about what is mapped.
/// </summary>
internal static class SecurityServiceCollectionExtensions
{
    public static IServiceCollection AddTaskSystemSecurity(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ServerOptions>().Bind(configuration.GetSection(TaskSystemOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ServerOptions>, ServerOptionsValidator>();
        services.AddSingleton<ApiKeyRing>();

        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, configureOptions: null);
        services.AddAuthorization();
        services.AddOptions<AuthorizationOptions>().Configure<IOptions<ServerOptions>>((authorization, server) =>
        {
            if (server.Value.KeysRequired)
            {
                authorization.FallbackPolicy = new AuthorizationPolicyBuilder(ApiKeyAuthenticationHandler.SchemeName).RequireAuthenticatedUser().Build();
            }
        });

        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<ServerOptions>>((limiter, server) => ConfigureRateLimits(limiter, server.Value));
        return services;
    }

    /// <summary>Authentication, then the rate limit (by key once known, else by address), then authorization.</summary>
    public static IApplicationBuilder UseTaskSystemSecurity(this IApplicationBuilder app)
    {
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        return app;
    }

    private static void ConfigureRateLimits(RateLimiterOptions limiter, ServerOptions server)
    {
        limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        limiter.OnRejected = OnRejectedAsync;
        if (!server.RateLimited)
        {
            return;
        }

        // A token bucket per client, refilled ten times a second so that the average holds without bursts at each second.
        var refills = Math.Min(server.RateLimitPerSecond, 10);
        var options = new TokenBucketRateLimiterOptions
        {
            TokenLimit = server.EffectiveBurst,
            TokensPerPeriod = (int)Math.Ceiling(server.RateLimitPerSecond / (double)refills),
            ReplenishmentPeriod = TimeSpan.FromSeconds(1.0 / refills),
            QueueLimit = 0,
            AutoReplenishment = true,
        };
        limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            RateLimitPartition.GetTokenBucketLimiter(ClientOf(context), _ => options));
    }

    /// <summary>The client a request counts against: its API key when it sent a valid one, else its address.</summary>
    private static string ClientOf(HttpContext context) =>
        context.User.FindFirst(ApiKeyAuthenticationHandler.KeyIdClaim)?.Value is { } keyId
            ? keyId
            : "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");

    private static async ValueTask OnRejectedAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await ServerProblems.WriteAsync(
            context, StatusCodes.Status429TooManyRequests, $"Too many requests from this client (TaskSystem:RateLimitPerSecond). Try again in {seconds} s.");
    }
}
