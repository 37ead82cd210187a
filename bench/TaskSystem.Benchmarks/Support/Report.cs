using System.Globalization;
using System.Text;

namespace TaskSystem.Benchmarks.Support;

/// <summary>Every figure measured, and the comparisons between them as ratios a script can read.</summary>
internal sealed class Report
{
    private readonly List<Figure> _figures = [];
    /// <summary>A ratio's value, or null when one side had too few samples to mean anything (<see cref="RatioIfEnough"/>).</summary>
    private readonly List<(string Name, double? Value, string Meaning, string? NotMeasured)> _ratios = [];

    public IReadOnlyList<Figure> Figures => _figures;

    public double Add(string group, string name, double value, string unit)
    {
        _figures.Add(new Figure(group, name, value, unit));
        Console.WriteLine($"  {name,-58} {Format(value),12} {unit}");
        return value;
    }

    /// <summary>A comparison: <paramref name="value"/> is ours divided by the reference, so above 1 is better for rates.</summary>
    public void Ratio(string name, double value, string meaning) => _ratios.Add((name, value, meaning, null));

    /// <summary>
    /// A comparison one of whose figures came from <paramref name="samples"/> jobs: below <paramref name="needed"/>
    /// (quick mode's hundred Hangfire jobs, whose start-up dominates) it is printed as "not measured", never as a
    /// ratio a reader might quote.
    /// </summary>
    public void RatioIfEnough(string name, double value, string meaning, int samples, int needed) =>
        _ratios.Add(samples >= needed
            ? (name, value, meaning, null)
            : (name, null, meaning, string.Create(CultureInfo.InvariantCulture, $"not measured ({samples} jobs; at least {needed} needed: run without --quick)")));

    /// <summary>A comparison that could not be made in this run, printed with why instead of a value.</summary>
    public void NotMeasured(string name, string meaning, string why) => _ratios.Add((name, null, meaning, $"not measured ({why})"));

    public double? Find(string name) => _figures.FirstOrDefault(f => f.Name == name)?.Value;

    public void PrintTable(TextWriter output)
    {
        output.WriteLine($"{"figure",-60} {"value",12} unit");
        foreach (var group in _figures.GroupBy(f => f.Group))
        {
            output.WriteLine($"-- {group.Key}");
            foreach (var figure in group)
            {
                output.WriteLine($"{figure.Name,-60} {Format(figure.Value),12} {figure.Unit}");
            }
        }
    }

    /// <summary>One line per comparison: <c>ratio NAME VALUE</c>.</summary>
    public void PrintRatios(TextWriter output)
    {
        foreach (var (name, value, _, notMeasured) in _ratios)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio {name} {(value is { } measured ? measured.ToString("0.##", CultureInfo.InvariantCulture) : notMeasured)}"));
        }
    }

    public string ToMarkdown(string machine, string arguments)
    {
        var text = new StringBuilder();
        text.AppendLine("| Figure | Value | Unit |").AppendLine("| --- | ---: | --- |");
        foreach (var figure in _figures)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {figure.Name} | {Format(figure.Value)} | {figure.Unit} |");
        }

        text.AppendLine().AppendLine("| Ratio | Value | Meaning |").AppendLine("| --- | ---: | --- |");
        foreach (var (name, value, meaning, notMeasured) in _ratios)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| `{name}` | {(value is { } measured ? measured.ToString("0.##", CultureInfo.InvariantCulture) : notMeasured)} | {meaning} |");
        }

        text.AppendLine().AppendLine("```").AppendLine(machine).AppendLine(CultureInfo.InvariantCulture, $"arguments: {arguments}").AppendLine("```");
        return text.ToString();
    }

    private static string Format(double value) => value switch
    {
        >= 100 => value.ToString("N0", CultureInfo.InvariantCulture),
        >= 10 => value.ToString("0.0", CultureInfo.InvariantCulture),
        > 0 and < 0.1 => value.ToString("0.0000", CultureInfo.InvariantCulture),
        _ => value.ToString("0.00", CultureInfo.InvariantCulture),
    };
}

/// <summary>One measured value.</summary>
internal sealed record Figure(string Group, string Name, double Value, string Unit);
