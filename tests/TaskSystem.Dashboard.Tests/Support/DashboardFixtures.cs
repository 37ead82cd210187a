namespace TaskSystem.Dashboard.Tests.Support;

/// <summary>The browser tests share one Chromium and one server, and run one at a time (the machine may have two cores).</summary>
[CollectionDefinition(Name)]
public sealed class DashboardFixtures : ICollectionFixture<Browser>, ICollectionFixture<DashboardServer>
{
    public const string Name = "dashboard";
}
