using System.Text.Json;
using System.Text.RegularExpressions;

namespace TaskSystem.Cluster.Tests.Deployment;

/// <summary>The repository's Dockerfile, read instruction by instruction (continuation lines joined, comments dropped).</summary>
public sealed partial class Dockerfile
{
    private Dockerfile(IReadOnlyList<(string Instruction, string Arguments)> instructions) => Instructions = instructions;

    public IReadOnlyList<(string Instruction, string Arguments)> Instructions { get; }

    public static Dockerfile Parse(string text)
    {
        var instructions = new List<(string, string)>();
        var current = "";
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd();
            if (line.TrimStart().StartsWith('#') && current.Length == 0 || line.Length == 0 && current.Length == 0)
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                current += line[..^1].Trim() + " ";
                continue;
            }

            current += line.Trim();
            var space = current.IndexOf(' ', StringComparison.Ordinal);
            instructions.Add((current[..space].ToUpperInvariant(), current[(space + 1)..].Trim()));
            current = "";
        }

        return new Dockerfile(instructions);
    }

    /// <summary>The instructions of the stage named <paramref name="name"/> (<c>FROM ... AS name</c>), or of the last stage.</summary>
    public IReadOnlyList<(string Instruction, string Arguments)> Stage(string? name = null)
    {
        var starts = Instructions.Select((item, index) => (item, index)).Where(x => x.item.Instruction == "FROM").ToList();
        var start = name is null
            ? starts[^1].index
            : starts.Single(x => x.item.Arguments.EndsWith(" AS " + name, StringComparison.OrdinalIgnoreCase)).index;
        var end = starts.Select(x => x.index).FirstOrDefault(i => i > start, Instructions.Count);
        return [.. Instructions.Skip(start + 1).Take(end - start - 1)];
    }

    /// <summary>The environment the final image sets (its <c>ENV</c> instructions, in order).</summary>
    public IReadOnlyDictionary<string, string> Environment()
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (_, arguments) in Stage().Where(i => i.Instruction == "ENV"))
        {
            foreach (Match pair in EnvPair().Matches(arguments))
            {
                var value = pair.Groups["value"].Value;
                environment[pair.Groups["name"].Value] = value.StartsWith('"') ? Regex.Unescape(value[1..^1]) : value;
            }
        }

        return environment;
    }

    /// <summary>The final image's <c>HEALTHCHECK</c> command (exec form).</summary>
    public IReadOnlyList<string> HealthCheckCommand()
    {
        var arguments = Stage().Single(i => i.Instruction == "HEALTHCHECK").Arguments;
        var json = arguments[(arguments.IndexOf("CMD ", StringComparison.Ordinal) + 4)..];
        return JsonSerializer.Deserialize<string[]>(json)!;
    }

    [GeneratedRegex(@"(?<name>[A-Za-z_][A-Za-z0-9_]*)=(?<value>""(?:[^""\\]|\\.)*""|\S*)")]
    private static partial Regex EnvPair();
}
