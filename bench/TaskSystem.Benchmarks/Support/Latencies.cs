namespace TaskSystem.Benchmarks.Support;

/// <summary>Latency samples in milliseconds, with percentiles.</summary>
internal sealed class Latencies
{
    private readonly List<double> _samples = [];

    public int Count => _samples.Count;

    public void Add(TimeSpan latency)
    {
        lock (_samples)
        {
            _samples.Add(latency.TotalMilliseconds);
        }
    }

    public double Percentile(double p)
    {
        lock (_samples)
        {
            if (_samples.Count == 0)
            {
                return double.NaN;
            }

            var sorted = _samples.Order().ToArray();
            var index = (int)Math.Ceiling(p / 100 * sorted.Length) - 1;
            return sorted[Math.Clamp(index, 0, sorted.Length - 1)];
        }
    }

    public void Report(Report report, string group, string name)
    {
        report.Add(group, $"{name} p50", Percentile(50), "ms");
        report.Add(group, $"{name} p99", Percentile(99), "ms");
    }
}
