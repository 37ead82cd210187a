namespace TaskSystem.Benchmarks;

/// <summary>Command-line options: --quick for the small sizes CI uses, --only to pick workloads, output files.</summary>
internal sealed record BenchOptions(bool Quick, IReadOnlySet<string>? Only, string? ChartPath, string? MarkdownPath)
{
    public static BenchOptions Parse(string[] args)
    {
        var quick = false;
        HashSet<string>? only = null;
        string? chart = null;
        string? markdown = null;
        var claimAhead = true;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    quick = true;
                    break;
                case "--only" when i + 1 < args.Length:
                    only = [.. args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
                    break;
                case "--chart" when i + 1 < args.Length:
                    chart = args[++i];
                    break;
                case "--markdown" when i + 1 < args.Length:
                    markdown = args[++i];
                    break;
                case "--no-claim-ahead":
                    claimAhead = false;
                    break;
                default:
                    throw new ArgumentException($"Unknown argument '{args[i]}'. Use --quick, --only e2e,enqueue,http,http-target,pickup,stop,scale,disk,dashboard,workers, --chart FILE.svg, --markdown FILE.md, --no-claim-ahead.");
            }
        }

        return new BenchOptions(quick, only, chart, markdown) { ClaimAhead = claimAhead };
    }

    /// <summary>False with --no-claim-ahead: TaskSystem nodes claim only for free workers, to measure what claiming ahead moves.</summary>
    public bool ClaimAhead { get; init; } = true;

    public bool Selects(string workload) => Only is null || Only.Contains(workload);

    /// <summary>Picks the full or the quick size.</summary>
    public int Size(int full, int quick) => Quick ? quick : full;

    public TimeSpan Duration(double fullSeconds, double quickSeconds) => TimeSpan.FromSeconds(Quick ? quickSeconds : fullSeconds);
}
