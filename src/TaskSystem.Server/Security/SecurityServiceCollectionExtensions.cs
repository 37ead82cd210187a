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
/// A request without a route needs a key too, so a stranger learns nothing about what is mapped. Requests without a
/// valid key are rate limited per address by default, so that a stranger's traffic stays small.
/// </summary>
internal static class SecurityServiceCollectionExtensions
{
    public static IServiceCollection AddTaskSystemSecurity(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ServerOptions>().Bind(configuration.GetSection(TaskSystemOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ServerOptions>, ServerOptionsValidator>();
        services.AddSingleton<ApiKeyRing>();
        services.AddSingleton<DebugLevelLoggerFactory>();

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
        var limits = new List<PartitionedRateLimiter<HttpContext>>();
        if (server.AnonymousRateLimited)
        {
            // Requests with a valid key pass; the others share one bucket per address, whatever key they guess.
            var anonymous = Bucket(server.AnonymousRateLimitPerSecond, burst: 2 * server.AnonymousRateLimitPerSecond);
            limits.Add(PartitionedRateLimiter.Create<HttpContext, string>(context => KeyIdOf(context) is null
                ? RateLimitPartition.GetTokenBucketLimiter(AddressOf(context), _ => anonymous)
                : RateLimitPartition.GetNoLimiter("")));
        }

        if (server.RateLimited)
        {
            var perClient = Bucket(server.RateLimitPerSecond, server.EffectiveBurst);
            limits.Add(PartitionedRateLimiter.Create<HttpContext, string>(context =>
                RateLimitPartition.GetTokenBucketLimiter(KeyIdOf(context) ?? AddressOf(context), _ => perClient)));
        }

        limiter.GlobalLimiter = limits.Count switch
        {
            0 => null,
            1 => limits[0],
            _ => PartitionedRateLimiter.CreateChained([.. limits]),
        };
    }

    /// <summary>A token bucket, refilled ten times a second so that the average holds without bursts at each second.</summary>
    private static TokenBucketRateLimiterOptions Bucket(int perSecond, int burst)
    {
        var refills = Math.Min(perSecond, 10);
        return new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst,
            TokensPerPeriod = (int)Math.Ceiling(perSecond / (double)refills),
            ReplenishmentPeriod = TimeSpan.FromSeconds(1.0 / refills),
            QueueLimit = 0,
            AutoReplenishment = true,
        };
    }

    /// <summary>The id of the valid API key the request sent ("key-1"...), or null.</summary>
    private static string? KeyIdOf(HttpContext context) => context.User.FindFirst(ApiKeyAuthenticationHandler.KeyIdClaim)?.Value;

    private static string AddressOf(HttpContext context) => "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");

    private static async ValueTask OnRejectedAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        var anonymous = KeyIdOf(context) is null && context.RequestServices.GetRequiredService<IOptions<ServerOptions>>().Value.AnonymousRateLimited;
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await ServerProblems.WriteAsync(
            context,
            StatusCodes.Status429TooManyRequests,
            anonymous
                ? $"Too many requests without a valid API key from this address (TaskSystem:AnonymousRateLimitPerSecond). Try again in {seconds} s."
                : $"Too many requests from this client (TaskSystem:RateLimitPerSecond). Try again in {seconds} s.");
    }
}
