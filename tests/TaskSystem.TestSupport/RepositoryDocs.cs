using System.Text.RegularExpressions;

namespace TaskSystem.TestSupport;

/// <summary>The repository's own files, for tests that run what the docs show.</summary>
public static partial class RepositoryDocs
{
    /// <summary>The repository's root: the first folder above the test binaries that holds TaskSystem.slnx.</summary>
    public static string Root
    {
        get
        {
            for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            {
                if (File.Exists(Path.Combine(folder.FullName, "TaskSystem.slnx")))
                {
                    return folder.FullName;
                }
            }

            throw new InvalidOperationException($"No TaskSystem.slnx above {AppContext.BaseDirectory}.");
        }
    }

    /// <summary>A file's text, by its path from the root (<c>docs/http-targets.md</c>).</summary>
    public static string Read(string path) => File.ReadAllText(Path.Combine(Root, path)).ReplaceLineEndings("\n");

    /// <summary>The fenced code blocks of a markdown page in the given language, in order.</summary>
    public static IReadOnlyList<string> CodeBlocks(string markdown, string language) =>
        [.. FencedBlock().Matches(markdown).Where(m => m.Groups["lang"].Value == language).Select(m => m.Groups["code"].Value)];

    [GeneratedRegex(@"^```(?<lang>[a-z]*)\n(?<code>.*?)^```$", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex FencedBlock();
}
