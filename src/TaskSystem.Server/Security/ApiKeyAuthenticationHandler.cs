using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using TaskSystem.Server.Http;

namespace TaskSystem.Server.Security;

/// <summary>
/// <c>Authorization: Bearer KEY</c> against <c>TaskSystem:ApiKeys</c>. The challenge is a 401 problem+json with
/// <c>WWW-Authenticate: Bearer</c> (RFC 6750). Neither a key nor any part of one is ever logged or echoed, and a
/// failure is logged at Debug only (<see cref="DebugLevelLoggerFactory"/>): strangers must not be able to fill the log.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    DebugLevelLoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyRing keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string KeyIdClaim = "api_key_id";
    private const string BearerPrefix = "Bearer ";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var headers = Request.Headers.Authorization;
        if (keys.IsEmpty || headers.Count == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (headers.Count > 1)
        {
            return Task.FromResult(AuthenticateResult.Fail("More than one Authorization header."));
        }

        var header = headers[0] ?? "";
        if (!header.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.Fail("The Authorization header is not a Bearer token."));
        }

        if (!keys.TryMatch(header.AsSpan(BearerPrefix.Length).Trim(), out var keyId))
        {
            return Task.FromResult(AuthenticateResult.Fail("The API key is not valid."));
        }

        var identity = new ClaimsIdentity([new Claim(KeyIdClaim, keyId), new Claim(ClaimTypes.Name, keyId)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        var presented = result.Failure is not null;
        Response.Headers.WWWAuthenticate = presented ? "Bearer error=\"invalid_token\"" : "Bearer";
        var detail = presented
            ? $"{result.Failure!.Message} Send one of the keys of TaskSystem:ApiKeys as 'Authorization: Bearer KEY'."
            : "This endpoint needs an API key: send one of the keys of TaskSystem:ApiKeys as 'Authorization: Bearer KEY'.";
        await ServerProblems.WriteAsync(Context, StatusCodes.Status401Unauthorized, detail);
    }
}
