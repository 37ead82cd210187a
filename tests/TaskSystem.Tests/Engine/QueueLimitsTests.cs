using Microsoft.Extensions.Configuration;
using TaskSystem.Engine;

namespace TaskSystem.Tests.Engine;

/// <summary>TaskSystem:Queues as configuration gives it: which queues a node serves, and which it claims on their own.</summary>
public sealed class QueueLimitsTests
{
    private static QueueLimits FromSettings(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>("TaskSystem:" + s.Key, s.Value)))
            .Build();
        var options = new TaskSystemOptions();
        configuration.GetSection(TaskSystemOptions.SectionName).Bind(options);
        return new QueueLimits(options);
    }

    [Fact]
    public void NoQueuesNamed_ServesEveryQueue_InOneClaim()
    {
        var limits = FromSettings();

        Assert.True(limits.IsPlain);
        Assert.True(limits.Serves("anything"));
    }

    [Fact]
    public void ALimitedQueueAndStar_ServeEveryQueue_TheLimitedOneOnItsOwn()
    {
        var limits = FromSettings(("Queues:emails:Concurrency", "2"), ("Queues:*:Serve", "true"));

        Assert.False(limits.IsPlain);
        Assert.Equal((true, 2, 2), (limits.ServesAll, limits.LimitOf("emails")!.Value, limits.FreeIn("emails")));
        Assert.Equal(["emails"], limits.ExcludedFromOthers);
        Assert.True(limits.Serves("reports"));
        limits.Took("emails");
        limits.Took("reports");
        Assert.Equal(1, limits.FreeIn("emails"));
        limits.Released("emails");
        Assert.Equal(2, limits.FreeIn("emails"));
    }

    [Fact]
    public void NamedQueuesOnly_AreTheOnesServed()
    {
        var limits = FromSettings(("Queues:emails:Concurrency", "2"), ("Queues:reports:Serve", "true"));

        Assert.False(limits.ServesAll);
        Assert.Equal(["reports"], limits.Unlimited);
        Assert.Equal((true, true, false), (limits.Serves("emails"), limits.Serves("reports"), limits.Serves("other")));
    }

    [Fact]
    public void QueuesNotServed_AreLeftOut_AndEveryOtherQueueIsServed()
    {
        var limits = FromSettings(("Queues:reports:Serve", "false"));

        Assert.True(limits.ServesAll);
        Assert.False(limits.IsPlain);
        Assert.Equal(["reports"], limits.ExcludedFromOthers);
        Assert.Equal((false, true), (limits.Serves("reports"), limits.Serves("emails")));
    }

    [Theory]
    [InlineData("Queues:emails:Concurrency", "0", "TaskSystem:Queues:emails:Concurrency must be between 1 and 1024")]
    [InlineData("Queues:*:Concurrency", "3", "'*' stands for every other queue and takes no limit")]
    public void Validate_RefusesBadSettings_NamingThem(string key, string value, string expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new KeyValuePair<string, string?>("TaskSystem:" + key, value)]).Build();
        var options = new TaskSystemOptions();
        configuration.GetSection(TaskSystemOptions.SectionName).Bind(options);
        var errors = new List<string>();

        QueueLimits.Validate(options, errors);

        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal));
    }
}
