using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace TaskSystem.Benchmarks.Support;

/// <summary>
/// wrk, an independent load generator written in C, run against the same endpoints as <see cref="HttpLoad"/>: on two
/// shared cores our own generator takes CPU from the server it measures, so its figures are checked against another's.
/// Absent unless installed (Debian's package <c>wrk</c>); the workload then says so instead of printing a figure.
/// </summary>
internal static partial class Wrk
{
    public sealed record Result(double Rate, double P50Ms, double P99Ms, long Requests, long NotSuccess);

    /// <summary>The wrk on PATH, or null.</summary>
    public static string? Find() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, "wrk"))
            .FirstOrDefault(File.Exists);

    /// <summary>POSTs <paramref name="body"/> as JSON over <paramref name="connections"/> keep-alive connections on two threads.</summary>
    public static async Task<Result> PostAsync(string wrk, Uri url, string body, int connections, TimeSpan duration)
    {
        var script = Path.Combine(Path.GetTempPath(), $"wrk-post-{Guid.NewGuid():N}.lua");
        // A Lua long string holds the JSON as it is, quotes and all.
        await File.WriteAllTextAsync(script, $"""
            wrk.method = "POST"
            wrk.headers["Content-Type"] = "application/json"
            wrk.body = [==[{body}]==]
            """);
        try
        {
            var start = new ProcessStartInfo(wrk) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in new[]
            {
                "-t", "2", "-c", connections.ToString(CultureInfo.InvariantCulture),
                "-d", $"{Math.Max(1, (int)Math.Round(duration.TotalSeconds))}s", "--latency", "-s", script, url.ToString(),
            })
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start) ?? throw new InvalidOperationException("wrk did not start.");
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            var text = await output;
            return process.ExitCode == 0
                ? Parse(text)
                : throw new InvalidOperationException($"wrk exited with {process.ExitCode}: {await error}{text}");
        }
        finally
        {
            File.Delete(script);
        }
    }

    /// <summary>Reads wrk's summary: requests/sec, the latency distribution's 50% and 99%, the request count and non-2xx/3xx answers.</summary>
    public static Result Parse(string output)
    {
        var rate = double.Parse(RateLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        var requests = long.Parse(RequestsLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        var failed = NotSuccessLine().Match(output) is { Success: true } match ? long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        return new Result(rate, Percentile(output, "50"), Percentile(output, "99"), requests, failed);
    }

    private static double Percentile(string output, string percent)
    {
        var match = Regex.Match(output, $@"^\s+{percent}%\s+([0-9.]+)(us|ms|s)\s*$", RegexOptions.Multiline, TimeSpan.FromSeconds(1));
        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch
        {
            "us" => value / 1000,
            "ms" => value,
            _ => value * 1000,
        };
    }

    [GeneratedRegex(@"^Requests/sec:\s+([0-9.]+)", RegexOptions.Multiline)]
    private static partial Regex RateLine();

    [GeneratedRegex(@"^\s+(\d+) requests in ", RegexOptions.Multiline)]
    private static partial Regex RequestsLine();

    [GeneratedRegex(@"Non-2xx or 3xx responses: (\d+)")]
    private static partial Regex NotSuccessLine();
}
