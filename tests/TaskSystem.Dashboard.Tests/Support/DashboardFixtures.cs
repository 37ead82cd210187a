namespace TaskSystem.Dashboard.Tests.Support;

/// <summary>
/// The browser tests share one Chromium and one server (and one server that wants an API key, for the tests that need
/// one), and run one at a time (the machine may have two cores).
/// </summary>
[CollectionDefinition(Name)]
public sealed class DashboardFixtures : ICollectionFixture<Browser>, ICollectionFixture<DashboardServer>, ICollectionFixture<KeyedServer>
{
    public const string Name = "dashboard";
}
