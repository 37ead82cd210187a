using System.Globalization;
using System.Net;
using System.Text;

namespace TaskSystem.Benchmarks.Support;

/// <summary>A horizontal bar chart of the end-to-end figures, on a log scale: the ratios span three orders of magnitude.</summary>
internal static class SvgChart
{
    public static void Write(Report report, string path)
    {
        var bars = report.Figures.Where(f => f.Group == "e2e" && f.Unit == "tasks/s" && !f.Name.Contains("enqueued", StringComparison.Ordinal)).ToList();
        const int Left = 430;
        const int Width = 900;
        const int Row = 26;
        var height = 60 + bars.Count * Row;
        var max = Math.Log10(Math.Max(10, bars.Max(b => b.Value)) * 1.5);
        var svg = new StringBuilder();
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{height}" font-family="sans-serif" font-size="12">""");
        svg.AppendLine("""<rect width="100%" height="100%" fill="white"/>""");
        svg.AppendLine("""<text x="10" y="20" font-size="14" font-weight="bold">End-to-end no-op tasks per second (log scale; higher is better)</text>""");
        for (var i = 0; i < bars.Count; i++)
        {
            var bar = bars[i];
            var y = 40 + i * Row;
            var length = Math.Max(2, (Math.Log10(Math.Max(1, bar.Value)) / max) * (Width - Left - 90));
            var colour = bar.Name.StartsWith("TaskSystem", StringComparison.Ordinal) ? "#2b6cb0" : bar.Name.Contains("in-memory", StringComparison.Ordinal) ? "#a0aec0" : "#dd6b20";
            svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{Left - 8}" y="{y + 15}" text-anchor="end">{WebUtility.HtmlEncode(bar.Name)}</text>""");
            svg.AppendLine(CultureInfo.InvariantCulture, $"""<rect x="{Left}" y="{y + 3}" width="{length:0.#}" height="{Row - 8}" fill="{colour}"/>""");
            svg.AppendLine(CultureInfo.InvariantCulture, $"""<text x="{Left + length + 6:0.#}" y="{y + 15}">{bar.Value:N0}</text>""");
        }

        svg.AppendLine("</svg>");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, svg.ToString());
    }
}
