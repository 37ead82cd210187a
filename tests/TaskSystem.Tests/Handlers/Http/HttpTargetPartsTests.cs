using System.Net.Http.Headers;
using Microsoft.Extensions.Options;
using TaskSystem.Handlers.Http;

namespace TaskSystem.Tests.Handlers.Http;

/// <summary>The small parts: Retry-After, the signer's format, the settings' checks.</summary>
public sealed class HttpTargetPartsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void RetryAfter_InSecondsOrAsADate_IsADelayFromNow()
    {
        Assert.Equal(TimeSpan.FromSeconds(120), RetryAfterHeader.Delay(new RetryConditionHeaderValue(TimeSpan.FromSeconds(120)), Now));
        Assert.Equal(TimeSpan.FromMinutes(5), RetryAfterHeader.Delay(new RetryConditionHeaderValue(Now.AddMinutes(5)), Now));
        Assert.Equal(TimeSpan.Zero, RetryAfterHeader.Delay(new RetryConditionHeaderValue(Now.AddMinutes(-5)), Now));
        Assert.Null(RetryAfterHeader.Delay(null, Now));
    }

    [Fact]
    public void Signer_SignsTimestampDotBody_OncePerKey_InHexUnderEachId()
    {
        var signer = new HttpTargetSigner([new HttpSigningKey { Id = "a", Secret = "s1" }, new HttpSigningKey { Id = "b", Secret = "s2" }]);

        var (timestamp, signature) = signer.Sign(Now, "{}"u8);

        Assert.Equal(Now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), timestamp);
        var expectedA = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData("s1"u8, System.Text.Encoding.ASCII.GetBytes(timestamp + ".{}")));
        var expectedB = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData("s2"u8, System.Text.Encoding.ASCII.GetBytes(timestamp + ".{}")));
        Assert.Equal($"a={expectedA}, b={expectedB}", signature);
    }

    [Fact]
    public void Settings_AreCheckedAtStart_WithMessagesNamingEachSetting()
    {
        var options = new HttpTargetOptions { MaxConnectionsPerHost = 0, MaxRequestBodyBytes = -1 };
        options.AllowedTargets.Add("https://ok.example/");
        options.AllowedTargets.Add("ftp://files.example/");
        options.SigningKeys.Add(new HttpSigningKey { Id = "k 1", Secret = "short" });
        options.SigningKeys.Add(new HttpSigningKey { Id = "k2", Secret = new string('s', 32) });
        options.SigningKeys.Add(new HttpSigningKey { Id = "k2", Secret = new string('t', 32) });

        var result = new HttpTargetOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Equal(
            [
                "TaskSystem:Http:AllowedTargets:1 must be an absolute http or https URL (got 'ftp://files.example/').",
                "TaskSystem:Http:MaxConnectionsPerHost must be between 1 and 10000 (got 0).",
                "TaskSystem:Http:MaxRequestBodyBytes must be between 0 and 67108864 (got -1).",
                "TaskSystem:Http:SigningKeys:0:Id must be 1 to 64 of letters, digits and _ - . (got 'k 1').",
                "TaskSystem:Http:SigningKeys:0:Secret must be at least 32 characters without spaces (got 5 characters).",
                "TaskSystem:Http:SigningKeys:2:Id 'k2' is used by another signing key.",
            ],
            result.Failures);
        Assert.Equal(ValidateOptionsResult.Success, new HttpTargetOptionsValidator().Validate(null, new HttpTargetOptions()));
    }
}
