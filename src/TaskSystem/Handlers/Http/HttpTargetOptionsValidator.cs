using Microsoft.Extensions.Options;

namespace TaskSystem.Handlers.Http;

/// <summary>Checks the http task settings at start, with a message that names the setting, the rule and the value found.</summary>
internal sealed class HttpTargetOptionsValidator : IValidateOptions<HttpTargetOptions>
{
    public const int MinSecretLength = 32;
    public const int MaxSigningKeys = 5;

    public ValidateOptionsResult Validate(string? name, HttpTargetOptions options)
    {
        var errors = new List<string>();
        for (var i = 0; i < options.AllowedTargets.Count; i++)
        {
            if (TargetPrefix.Parse(options.AllowedTargets[i], out _) is { } error)
            {
                errors.Add($"{HttpTargetOptions.SectionName}:AllowedTargets:{i} {error}");
            }
        }

        if (options.MaxConnectionsPerHost is < 1 or > 10_000)
        {
            errors.Add($"{HttpTargetOptions.SectionName}:MaxConnectionsPerHost must be between 1 and 10000 (got {options.MaxConnectionsPerHost}).");
        }

        if (options.MaxRequestBodyBytes is < 0 or > 64 * 1024 * 1024)
        {
            errors.Add($"{HttpTargetOptions.SectionName}:MaxRequestBodyBytes must be between 0 and {64 * 1024 * 1024} (got {options.MaxRequestBodyBytes}).");
        }

        if (options.SigningKeys.Count > MaxSigningKeys)
        {
            errors.Add($"{HttpTargetOptions.SectionName}:SigningKeys holds at most {MaxSigningKeys} keys (got {options.SigningKeys.Count}): more only slows every request.");
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.SigningKeys.Count; i++)
        {
            var key = options.SigningKeys[i];
            var setting = $"{HttpTargetOptions.SectionName}:SigningKeys:{i}";
            if (!IsKeyId(key.Id))
            {
                errors.Add($"{setting}:Id must be 1 to 64 of letters, digits and _ - . (got '{key.Id}').");
            }
            else if (!ids.Add(key.Id))
            {
                errors.Add($"{setting}:Id '{key.Id}' is used by another signing key.");
            }

            // The secret itself never appears in a message: only what is wrong with it.
            if (key.Secret.Length < MinSecretLength || key.Secret.Any(char.IsWhiteSpace))
            {
                errors.Add($"{setting}:Secret must be at least {MinSecretLength} characters without spaces (got {key.Secret.Length} characters).");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static bool IsKeyId(string id) =>
        id.Length is >= 1 and <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');
}
