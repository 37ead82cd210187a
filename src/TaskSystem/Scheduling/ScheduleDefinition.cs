using System.Text.Json;
using Cronos;

namespace TaskSystem.Scheduling;

/// <summary>
/// A checked schedule: when it ticks and what each tick enqueues. Ticks are computed here, the same on every node, so
/// that two nodes firing "the same tick" name it with the same instant (which the store's unique key then resolves).
/// </summary>
internal sealed record ScheduleDefinition
{
    /// <summary>How late a tick may fire and still count as on time; later ticks are misfires (see <see cref="ScheduleMisfire"/>).</summary>
    public static readonly TimeSpan MisfireGrace = TimeSpan.FromMinutes(1);

    public required string Name { get; init; }

    public string? Cron { get; init; }

    public required TimeZoneInfo TimeZone { get; init; }

    public TimeSpan? Every { get; init; }

    public required ScheduleTemplate Template { get; init; }

    public bool Paused { get; init; }

    public ScheduleOverlap Overlap { get; init; }

    public ScheduleMisfire Misfire { get; init; }

    private CronExpression? Expression { get; init; }

    /// <summary>A cron definition; <paramref name="cron"/> has 5 fields, or 6 with seconds first.</summary>
    /// <exception cref="CronFormatException">The expression is not valid cron.</exception>
    public static CronExpression ParseCron(string cron)
    {
        var fields = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        return CronExpression.Parse(cron, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
    }

    public ScheduleDefinition WithParsedCron() => Cron is null ? this : this with { Expression = ParseCron(Cron) };

    /// <summary>The first tick strictly after <paramref name="after"/>, or null when there is none.</summary>
    public DateTimeOffset? Next(DateTimeOffset after)
    {
        if (Every is { } every)
        {
            var ticks = every.Ticks;
            var since = after.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
            return new DateTimeOffset(DateTimeOffset.UnixEpoch.UtcTicks + ((since / ticks) + 1) * ticks, TimeSpan.Zero);
        }

        var expression = Expression ?? ParseCron(Cron!);
        return expression.GetNextOccurrence(after, TimeZone) is { } next ? next.ToUniversalTime() : null;
    }

    /// <summary>The latest tick at or before <paramref name="now"/>, starting from a tick <paramref name="due"/> that is.</summary>
    public DateTimeOffset LatestDue(DateTimeOffset due, DateTimeOffset now)
    {
        if (Every is { } every)
        {
            return due + (every * Math.Floor((now - due) / every));
        }

        var latest = due;
        while (Next(latest) is { } next && next <= now)
        {
            latest = next;
        }

        return latest;
    }

    /// <summary>What the definition looks like on the wire and in the store.</summary>
    public string TemplateJson => JsonSerializer.Serialize(Template, ScheduleJsonContext.Default.ScheduleTemplate);
}

/// <summary>The task a schedule's tick enqueues. Unset fields take the type's and the node's defaults at each tick.</summary>
internal sealed record ScheduleTemplate(string Type)
{
    public JsonElement? Payload { get; init; }

    public string? Queue { get; init; }

    public int? Priority { get; init; }

    public int? MaxAttempts { get; init; }

    public double? TimeoutSeconds { get; init; }

    /// <summary>The request each tick makes.</summary>
    public TaskRequest ToRequest() => new(Type)
    {
        Payload = Payload,
        Queue = Queue,
        Priority = Priority,
        MaxAttempts = MaxAttempts,
        Timeout = TimeoutSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
    };
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(ScheduleTemplate))]
internal sealed partial class ScheduleJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
