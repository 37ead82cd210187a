using TaskSystem.Handlers.Http;

namespace TaskSystem.Tests.Handlers.Http;

public sealed class TargetAllowListTests
{
    private static readonly TargetAllowList Allowed = new(["https://api.example.com/hooks/", "https://api.example.com/exact", "http://localhost:8080"]);

    [Theory]
    [InlineData("https://api.example.com/hooks/")]
    [InlineData("https://api.example.com/hooks/a/b?c=d")]
    [InlineData("https://API.example.com:443/hooks/a")]
    [InlineData("https://api.example.com/other/../hooks/a")]
    [InlineData("https://api.example.com/exact")]
    [InlineData("https://api.example.com/exact/more")]
    [InlineData("https://api.example.com/exact?q=1")]
    [InlineData("http://localhost:8080/anything")]
    public void UrlUnderAPrefix_IsAllowed(string url) => Assert.Null(Allowed.Check("payload.url", new Uri(url)));

    [Theory]
    [InlineData("https://api.example.com/hooks")]
    [InlineData("https://api.example.com/hooks/../admin")]
    [InlineData("https://api.example.com/Hooks/a")]
    [InlineData("https://api.example.com/exactly")]
    [InlineData("http://api.example.com/hooks/a")]
    [InlineData("https://api.example.com:8443/hooks/a")]
    [InlineData("https://api.example.com.evil.example/hooks/a")]
    [InlineData("https://evil.example/hooks/a?https://api.example.com/hooks/")]
    [InlineData("http://localhost:8081/")]
    [InlineData("http://127.0.0.1:8080/")]
    public void UrlOutsideEveryPrefix_IsRefused(string url) =>
        Assert.Contains("is not under any of TaskSystem:Http:AllowedTargets", Allowed.Check("payload.url", new Uri(url)), StringComparison.Ordinal);

    [Theory]
    [InlineData("https://api.example.com/hooks/", null)]
    [InlineData("hooks/", "must be an absolute http or https URL (got 'hooks/').")]
    [InlineData("ftp://files.example/", "must be an absolute http or https URL")]
    [InlineData("https://u:p@api.example.com/", "must not carry a user name or password")]
    [InlineData("https://api.example.com/?a=1", "must not have a query")]
    public void Prefix_IsParsed_OrSaysWhatIsWrong(string prefix, string? error)
    {
        var message = TargetPrefix.Parse(prefix, out _);

        if (error is null)
        {
            Assert.Null(message);
        }
        else
        {
            Assert.Contains(error, message, StringComparison.Ordinal);
        }
    }
}
