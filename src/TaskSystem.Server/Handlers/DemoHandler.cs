using System.Text.Json;
using TaskSystem.Server.Diagnostics;

namespace TaskSystem.Server.Handlers;

/// <summary>
/// The seed's work: sleeps <c>durationMs</c> (default a random 1 to 5 s) honouring cancellation and, when it sleeps a
/// second or more, reporting its progress as it goes, fails its first
/// <c>failAttempts</c> attempts (default 0) on purpose, logs the payload and returns it as the result.
/// </summary>
internal sealed class DemoHandler(TimeProvider time, ILogger<DemoHandler> logger) : ITaskHandler, ITaskPayloadValidator
{
    public const string Type = "demo";
    private const long MaxDurationMs = 24L * 60 * 60 * 1000;

    /// <summary>Sleeps at least this long report their progress.</summary>
    private const long ReportFromMs = 1000;

    public string? Validate(JsonElement payload) =>
        CheckInteger(payload, "durationMs", MaxDurationMs) ?? CheckInteger(payload, "failAttempts", 1000);

    public async ValueTask<JsonElement?> HandleAsync(TaskContext context, CancellationToken cancellationToken)
    {
        var payload = context.Payload;
        ServerLog.DemoPayload(logger, context.Id, context.Attempt, context.PayloadJson);
        var durationMs = ReadInteger(payload, "durationMs") ?? Random.Shared.Next(1000, 5001);
        if (durationMs >= ReportFromMs)
        {
            await SleepReportingProgressAsync(context, TimeSpan.FromMilliseconds(durationMs), cancellationToken);
        }
        else if (durationMs > 0)
        {
            // Too short for anyone to watch: no progress writes beside the outcome's.
            await Task.Delay(TimeSpan.FromMilliseconds(durationMs), time, cancellationToken);
        }

        var failAttempts = ReadInteger(payload, "failAttempts") ?? 0;
        if (context.Attempt <= failAttempts)
        {
            throw new TaskFailedException($"demo failure on attempt {context.Attempt}: failAttempts asks the first {failAttempts} to fail");
        }

        return payload;
    }

    /// <summary>
    /// Sleeps in twenty steps (each 100 ms to 5 s), reporting after each how far it is, so that progress can be watched
    /// with curl and in the dashboard. The engine writes at most one report a second; the last is always kept.
    /// </summary>
    private async Task SleepReportingProgressAsync(TaskContext context, TimeSpan duration, CancellationToken cancellationToken)
    {
        var step = TimeSpan.FromTicks(Math.Clamp(duration.Ticks / 20, TimeSpan.TicksPerMillisecond * 100, TimeSpan.TicksPerSecond * 5));
        var started = time.GetTimestamp();
        await context.ReportProgressAsync(0, $"sleeping {duration.TotalMilliseconds:0} ms");
        while (true)
        {
            var remaining = duration - time.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                break;
            }

            await Task.Delay(remaining < step ? remaining : step, time, cancellationToken);
            var slept = time.GetElapsedTime(started);
            var done = slept >= duration ? duration : slept;
            await context.ReportProgressAsync(
                Math.Round(100 * done / duration, 1), $"slept {done.TotalMilliseconds:0} of {duration.TotalMilliseconds:0} ms");
        }
    }

    private static long? ReadInteger(JsonElement payload, string name) =>
        payload.TryGetProperty(name, out var value) && value.TryGetInt64(out var number) ? number : null;

    private static string? CheckInteger(JsonElement payload, string name, long max)
    {
        if (!payload.TryGetProperty(name, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) && number >= 0 && number <= max
            ? null
            : $"payload.{name} must be an integer between 0 and {max} (got {value.GetRawText()}).";
    }
}
