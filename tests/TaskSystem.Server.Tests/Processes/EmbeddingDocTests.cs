using System.Text.RegularExpressions;
using TaskSystem.TestSupport;

namespace TaskSystem.Server.Tests.Processes;

/// <summary>docs/embedding.md's examples are the code the build compiles and runs, not a copy that drifts from it.</summary>
public sealed partial class EmbeddingDocTests
{
    [Fact]
    public void TestingYourHandlers_Example_IsTheSamplesOwnTests()
    {
        var page = RepositoryDocs.Read("docs/embedding.md");
        var example = Assert.Single(RepositoryDocs.CodeBlocks(page, "csharp"), b => b.Contains("class ReportTests", StringComparison.Ordinal));
        var sample = Normalized(RepositoryDocs.Read("samples/TaskSystem.Samples.AspNetCore.Tests/ReportTests.cs"));
        var members = example.Split("    [Fact]").Skip(1).ToList();

        Assert.Equal(3, members.Count);
        foreach (var member in members)
        {
            // Up to the class's own closing brace, which the sample has after more members.
            var text = Normalized(member.TrimEnd().TrimEnd('}'));
            Assert.True(sample.Contains(text, StringComparison.Ordinal), $"docs/embedding.md shows a test that ReportTests.cs does not have:\n{member}");
        }
    }

    private static string Normalized(string code) => Whitespace().Replace(code, " ").Trim();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
