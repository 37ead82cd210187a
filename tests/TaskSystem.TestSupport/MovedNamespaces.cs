// The helpers here used to live in each test project, under these namespaces. Test files that still import them
// compile unchanged (every test project imports TaskSystem.TestSupport globally): each namespace is kept by one type.
namespace TaskSystem.Tests.Support
{
    /// <summary>Keeps <c>using TaskSystem.Tests.Support;</c> valid in projects that no longer define that namespace.</summary>
    public static class MovedToTestSupport;
}

namespace TaskSystem.Server.Tests.Support
{
    /// <summary>Keeps <c>using TaskSystem.Server.Tests.Support;</c> valid in projects that no longer define that namespace.</summary>
    public static class MovedToTestSupport;
}
