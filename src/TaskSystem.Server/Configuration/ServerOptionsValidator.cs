using Microsoft.Extensions.Options;

namespace TaskSystem.Server.Configuration;

/// <summary>
/// Checks the server's settings at start. The secure default lives here: a server that listens beyond this machine
/// with no API key refuses to start, unless <c>TaskSystem:AllowAnonymous=true</c> says it is meant to be open.
/// A key's value never appears in a message.
/// </summary>
internal sealed class ServerOptionsValidator(IConfiguration configuration) : IValidateOptions<ServerOptions>
{
    public ValidateOptionsResult Validate(string? name, ServerOptions options)
    {
        var errors = new List<string>();
        for (var i = 0; i < options.ApiKeys.Length; i++)
        {
            var key = options.ApiKeys[i] ?? "";
            if (key.Length < ServerOptions.MinKeyLength || key.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)) || !key.All(char.IsAscii))
            {
                errors.Add(
                    $"TaskSystem:ApiKeys:{i} must be at least {ServerOptions.MinKeyLength} printable ASCII characters without spaces " +
                    $"(it has {key.Length}). Generate one with: openssl rand -base64 32");
            }
        }

        if (options.RateLimitPerSecond < 0)
        {
            errors.Add($"TaskSystem:RateLimitPerSecond must be 0 (no limit) or more (got {options.RateLimitPerSecond}).");
        }

        if (options.RateLimitBurst < 0)
        {
            errors.Add($"TaskSystem:RateLimitBurst must be 0 (one second's worth) or more (got {options.RateLimitBurst}).");
        }

        if (options.AnonymousRateLimitPerSecond < 0)
        {
            errors.Add($"TaskSystem:AnonymousRateLimitPerSecond must be 0 (no limit) or more (got {options.AnonymousRateLimitPerSecond}).");
        }

        if (!options.KeysRequired && !options.AllowAnonymous)
        {
            var exposed = ListenAddresses.Read(configuration).Where(address => !ListenAddresses.IsLoopback(address)).ToList();
            if (exposed.Count > 0)
            {
                errors.Add(
                    $"The server listens on {string.Join(", ", exposed)}, beyond this machine, and TaskSystem:ApiKeys is empty: anyone who can reach it could run tasks. " +
                    "Set an API key (a long random secret; clients send it as 'Authorization: Bearer KEY'), for example " +
                    "TaskSystem__ApiKeys__0=$(openssl rand -base64 32) in the environment, " +
                    "docker run -e TaskSystem__ApiKeys__0=... for Docker, or fly secrets set TaskSystem__ApiKeys__0=... on fly.io. " +
                    "To run without keys on purpose (a private network, or a proxy that authenticates), set TaskSystem:AllowAnonymous=true.");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
