using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace TaskSystem.Cluster.Tests.Deployment;

/// <summary>
/// A docker compose file read as Compose reads it, for the parts the recipe uses: anchors and merge keys (YamlDotNet's
/// MergingParser would refuse a key that overrides a merged one), each
/// service's environment (a map or a list of NAME=VALUE), ports, restart policy, whether it is built, and the
/// <c>${VAR}</c>, <c>${VAR:-default}</c> and <c>${VAR:?message}</c> interpolation of values.
/// </summary>
public sealed partial class ComposeFile
{
    private readonly YamlMappingNode _services;

    private ComposeFile(YamlMappingNode services) => _services = services;

    public static ComposeFile Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        return new ComposeFile((YamlMappingNode)root.Children[new YamlScalarNode("services")]);
    }

    public IEnumerable<string> ServiceNames => _services.Children.Keys.Select(k => ((YamlScalarNode)k).Value!);

    /// <summary>The services Compose builds from this repository (the TaskSystem nodes).</summary>
    public IEnumerable<string> BuiltServices => ServiceNames.Where(name => Service(name).Children.ContainsKey(new YamlScalarNode("build")));

    public string? Restart(string service) => Scalar(Service(service), "restart");

    /// <summary>The service's environment with every value interpolated from <paramref name="variables"/>, as <c>docker compose up</c> does.</summary>
    /// <exception cref="InvalidOperationException">A required variable (<c>${VAR:?message}</c>) is missing: Compose refuses to start with the message.</exception>
    public IReadOnlyDictionary<string, string> Environment(string service, IReadOnlyDictionary<string, string> variables)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!Service(service).Children.TryGetValue(new YamlScalarNode("environment"), out var node))
        {
            return environment;
        }

        if (node is YamlMappingNode map)
        {
            foreach (var (key, value) in map.Children)
            {
                environment[((YamlScalarNode)key).Value!] = Interpolate(((YamlScalarNode)value).Value ?? "", variables);
            }
        }
        else
        {
            foreach (var item in ((YamlSequenceNode)node).Children.Cast<YamlScalarNode>())
            {
                var text = Interpolate(item.Value!, variables);
                var equals = text.IndexOf('=', StringComparison.Ordinal);
                environment[equals < 0 ? text : text[..equals]] = equals < 0 ? "" : text[(equals + 1)..];
            }
        }

        return environment;
    }

    /// <summary>The container port a service publishes on the host port given (<c>"4001:4000"</c>).</summary>
    public IReadOnlyList<(int Host, int Container)> Ports(string service) =>
        Service(service).Children.TryGetValue(new YamlScalarNode("ports"), out var node)
            ? [.. ((YamlSequenceNode)node).Children.Cast<YamlScalarNode>().Select(p => p.Value!.Split(':')).Select(p => (int.Parse(p[^2], System.Globalization.CultureInfo.InvariantCulture), int.Parse(p[^1], System.Globalization.CultureInfo.InvariantCulture)))]
            : [];

    /// <summary>Compose's interpolation: <c>$$</c> is a dollar; a missing variable is empty unless a default or a required message says otherwise.</summary>
    public static string Interpolate(string value, IReadOnlyDictionary<string, string> variables) =>
        Variable().Replace(value, match =>
        {
            if (match.Value == "$$")
            {
                return "$";
            }

            var name = match.Groups["name"].Value;
            var op = match.Groups["op"].Value;
            var argument = match.Groups["arg"].Value;
            var present = variables.TryGetValue(name, out var found);
            var usable = op.StartsWith(':') ? present && found!.Length > 0 : present;
            return op.TrimStart(':') switch
            {
                "-" => usable ? found! : argument,
                "?" => usable ? found! : throw new InvalidOperationException($"required variable {name} is missing a value: {argument}"),
                _ => found ?? "",
            };
        });

    /// <summary>Reads a Compose env file: NAME=VALUE lines, # comments, optional quotes around the value.</summary>
    public static IReadOnlyDictionary<string, string> ReadEnvFile(string text)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            var value = line[(equals + 1)..];
            variables[line[..equals]] = value.Length >= 2 && value[0] is '"' or '\'' && value[^1] == value[0] ? value[1..^1] : value;
        }

        return variables;
    }

    private YamlMappingNode Service(string name) => Merged((YamlMappingNode)_services.Children[new YamlScalarNode(name)]);

    /// <summary>
    /// A mapping with its merge keys applied, as YAML 1.1 (and Compose) defines them: the keys of <c>&lt;&lt;: *anchor</c>
    /// are defaults, the mapping's own keys win, and nested mappings are merged the same way.
    /// </summary>
    private static YamlMappingNode Merged(YamlMappingNode node)
    {
        var merged = new YamlMappingNode();
        var mergeKey = new YamlScalarNode("<<");
        foreach (var (key, value) in node.Children.Where(c => !c.Key.Equals(mergeKey)))
        {
            merged.Children[key] = value is YamlMappingNode map ? Merged(map) : value;
        }

        if (node.Children.TryGetValue(mergeKey, out var sources))
        {
            var bases = sources is YamlSequenceNode list ? list.Children.Cast<YamlMappingNode>() : [(YamlMappingNode)sources];
            foreach (var source in bases.Select(Merged))
            {
                foreach (var (key, value) in source.Children)
                {
                    merged.Children.TryAdd(key, value);
                }
            }
        }

        return merged;
    }

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? ((YamlScalarNode)value).Value : null;

    [GeneratedRegex(@"\$\$|\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?<op>:?[-?])(?<arg>[^}]*))?\}|\$(?<name>[A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex Variable();
}
