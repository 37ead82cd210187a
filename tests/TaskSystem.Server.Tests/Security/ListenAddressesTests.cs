using Microsoft.Extensions.Configuration;
using TaskSystem.Server.Configuration;

namespace TaskSystem.Server.Tests.Security;

/// <summary>Which configured addresses reach beyond this machine, and what the start-up check says about them.</summary>
public sealed class ListenAddressesTests
{
    [Theory]
    [InlineData("http://localhost:4000", true)]
    [InlineData("http://LOCALHOST:4000/", true)]
    [InlineData("http://127.0.0.1:4000", true)]
    [InlineData("http://127.0.0.2:4000", true)]
    [InlineData("https://[::1]:4000", true)]
    [InlineData("http://unix:/run/tasksystem.sock", true)]
    [InlineData("http://+:4000", false)]
    [InlineData("http://*:4000", false)]
    [InlineData("http://0.0.0.0:4000", false)]
    [InlineData("http://[::]:4000", false)]
    [InlineData("http://10.0.0.5:4000", false)]
    [InlineData("http://example.com:4000", false)]
    [InlineData("http://localhost.example.com:4000", false)]
    [InlineData("not a url", false)]
    public void IsLoopback_ClassifiesAddresses(string address, bool loopback) =>
        Assert.Equal(loopback, ListenAddresses.IsLoopback(address));

    [Theory]
    [InlineData("urls", "http://localhost:4000;http://0.0.0.0:4001", "http://0.0.0.0:4001")]
    [InlineData("http_ports", "8080", "http://*:8080")]
    [InlineData("https_ports", "8443", "https://*:8443")]
    [InlineData("Kestrel:Endpoints:Public:Url", "http://192.168.1.10:4000", "http://192.168.1.10:4000")]
    public void Validator_WithoutKeys_RefusesEveryNonLoopbackSource_NamingTheAddress(string key, string value, string exposed)
    {
        var result = Validate(new() { [key] = value }, new ServerOptions());

        Assert.True(result.Failed);
        var message = Assert.Single(result.Failures!);
        Assert.Contains(exposed, message, StringComparison.Ordinal);
        Assert.Contains("TaskSystem:ApiKeys", message, StringComparison.Ordinal);
        Assert.Contains("docker run -e TaskSystem__ApiKeys__0=", message, StringComparison.Ordinal);
        Assert.Contains("fly secrets set TaskSystem__ApiKeys__0=", message, StringComparison.Ordinal);
        Assert.Contains("TaskSystem:AllowAnonymous=true", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validator_UrlsWinOverPorts_AsKestrelDoes() =>
        Assert.True(Validate(new() { ["urls"] = "http://127.0.0.1:4000", ["http_ports"] = "8080" }, new ServerOptions()).Succeeded);

    [Fact]
    public void Validator_NoAddressConfigured_MeansLocalhost_AndStaysOpenForDevelopment() =>
        Assert.True(Validate([], new ServerOptions()).Succeeded);

    [Fact]
    public void Validator_NonLoopback_WithAKey_OrAllowAnonymous_Starts()
    {
        var exposed = new Dictionary<string, string?> { ["urls"] = "http://+:4000" };

        Assert.True(Validate(exposed, new ServerOptions { ApiKeys = ["0123456789abcdef0123"] }).Succeeded);
        Assert.True(Validate(exposed, new ServerOptions { AllowAnonymous = true }).Succeeded);
    }

    [Theory]
    [InlineData("short")]
    [InlineData("has a space in it, long enough")]
    [InlineData("non-ascii-key-éééééééééé")]
    [InlineData("")]
    public void Validator_RefusesWeakKeys_WithoutPrintingThem(string key)
    {
        var result = Validate([], new ServerOptions { ApiKeys = ["a-perfectly-good-key-123", key] });

        var message = Assert.Single(result.Failures!);
        Assert.StartsWith("TaskSystem:ApiKeys:1 must be at least 16", message, StringComparison.Ordinal);
        if (key.Length > 0)
        {
            Assert.DoesNotContain(key, message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Validator_RefusesNegativeRateLimits()
    {
        var result = Validate([], new ServerOptions { RateLimitPerSecond = -1, RateLimitBurst = -2 });

        Assert.Equal(2, result.Failures!.Count());
    }

    private static Microsoft.Extensions.Options.ValidateOptionsResult Validate(Dictionary<string, string?> settings, ServerOptions options) =>
        new ServerOptionsValidator(new ConfigurationBuilder().AddInMemoryCollection(settings).Build()).Validate(null, options);
}
