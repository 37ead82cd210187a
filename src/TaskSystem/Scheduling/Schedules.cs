using System.Globalization;
using System.Text.Json;
using Cronos;
using Microsoft.Extensions.Options;
using TaskSystem.Configuration;
using TaskSystem.Diagnostics;
using TaskSystem.Engine;
using TaskSystem.Storage;

namespace TaskSystem.Scheduling;

/// <summary>
/// Every way a schedule is defined or steered ends here (the HTTP API, configuration, the library): the checks that
/// name the field at fault, the store, and a wake-up of this node's <see cref="ScheduleRunner"/>.
/// </summary>
internal sealed class Schedules(
    ITaskStore store,
    TaskRequestValidator validator,
    TaskEnqueuer enqueuer,
    ScheduleSignal signal,
    QueueCounts counts,
    TaskMetrics metrics,
    IOptions<TaskSystemOptions> options,
    TimeProvider time)
{
    /// <summary>The longest schedule name.</summary>
    public const int MaxNameLength = 100;

    /// <summary>The shortest interval.</summary>
    public static readonly TimeSpan MinEvery = TimeSpan.FromSeconds(1);

    /// <summary>Checks a declaration and returns the definition it makes.</summary>
    /// <exception cref="TaskValidationException">A field is invalid; the exception names it.</exception>
    public ScheduleDefinition Define(string name, ScheduleOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
        {
            throw new TaskValidationException("name", $"A schedule name is 1 to {MaxNameLength} letters, digits, '-', '_', '.' or ':' (got '{name}').");
        }

        if ((options.Cron is null) == (options.Every is null))
        {
            throw new TaskValidationException("cron", "Set either cron (a cron expression) or every (an interval such as \"00:05:00\"), not both and not neither.");
        }

        var zone = TimeZoneInfo.Utc;
        if (!string.IsNullOrEmpty(options.TimeZone))
        {
            try
            {
                zone = TimeZoneInfo.FindSystemTimeZoneById(options.TimeZone);
            }
            catch (Exception exception) when (exception is TimeZoneNotFoundException or InvalidTimeZoneException)
            {
                throw new TaskValidationException("timeZone", $"Unknown time zone '{options.TimeZone}': use an IANA id such as Europe/Paris or America/New_York, or UTC.");
            }
        }

        if (options.Cron is { } cron)
        {
            try
            {
                _ = ScheduleDefinition.ParseCron(cron);
            }
            catch (CronFormatException exception)
            {
                throw new TaskValidationException("cron", $"Invalid cron expression '{cron}': {exception.Message} Use 5 fields (minute hour day month weekday) or 6 (seconds first).");
            }
        }

        if (options.Every is { } every && (every < MinEvery || every > TimeSpan.FromDays(366)))
        {
            throw new TaskValidationException("every", $"every must be between 1 second and 366 days (got {every}).");
        }

        if (string.IsNullOrEmpty(options.Type))
        {
            throw new TaskValidationException("type", "type is required: the task type each tick enqueues.");
        }

        JsonElement? payload = null;
        if (options.Payload is { } payloadText)
        {
            try
            {
                payload = JsonLimits.Parse(payloadText);
            }
            catch (JsonException)
            {
                throw new TaskValidationException("payload", "payload must be a JSON object.");
            }
        }

        if (options.TimeoutSeconds is { } seconds && (double.IsNaN(seconds) || seconds <= 0 || seconds > TaskRules.MaxTimeout.TotalSeconds))
        {
            throw new TaskValidationException("timeoutSeconds", $"timeoutSeconds must be between 0.001 and {TaskRules.MaxTimeout.TotalSeconds} (got {seconds.ToString(CultureInfo.InvariantCulture)}).");
        }

        var template = new ScheduleTemplate(options.Type)
        {
            Payload = payload,
            Queue = options.Queue,
            Priority = options.Priority,
            MaxAttempts = options.MaxAttempts,
            TimeoutSeconds = options.TimeoutSeconds,
        };

        // The template is checked as any enqueue is (type, payload, queue, priority, attempts, timeout), field names included.
        _ = validator.Prepare(template.ToRequest(), time.GetUtcNow());
        return new ScheduleDefinition
        {
            Name = name,
            Cron = options.Cron,
            TimeZone = zone,
            Every = options.Every,
            Template = template,
            Paused = options.Paused,
            Overlap = options.Overlap,
            Misfire = options.Misfire,
        }.WithParsedCron();
    }

    /// <summary>A stored row as a definition (it was checked when it was written).</summary>
    public static ScheduleDefinition FromRecord(ScheduleRecord record) => new ScheduleDefinition
    {
        Name = record.Name,
        Cron = record.Cron,
        TimeZone = TimeZoneInfo.FindSystemTimeZoneById(record.TimeZone),
        Every = record.Every,
        Template = JsonSerializer.Deserialize(record.TemplateJson, ScheduleJsonContext.Default.ScheduleTemplate)!,
        Paused = record.Paused,
        Overlap = record.Overlap == "skip" ? ScheduleOverlap.Skip : ScheduleOverlap.Allow,
        Misfire = record.Misfire == "runOnce" ? ScheduleMisfire.RunOnce : ScheduleMisfire.Skip,
    }.WithParsedCron();

    /// <summary>Creates or replaces a schedule (see <see cref="ITaskStore.ScheduleUpsertAsync"/>) and wakes the scheduler.</summary>
    /// <exception cref="TaskValidationException">A field is invalid.</exception>
    public async Task<ScheduleRecord> PutAsync(string name, ScheduleOptions options, CancellationToken cancellationToken)
    {
        var definition = Define(name, options);
        var now = time.GetUtcNow();
        var record = new ScheduleRecord(
            definition.Name,
            definition.Cron,
            definition.TimeZone.Id,
            definition.Every,
            definition.TemplateJson,
            definition.Paused,
            Wire(definition.Overlap),
            Wire(definition.Misfire),
            definition.Next(now),
            null,
            null,
            now);
        var stored = await store.ScheduleUpsertAsync(new ScheduleUpsertParams(record), cancellationToken).ConfigureAwait(false);
        signal.Changed();
        return stored;
    }

    public Task<IReadOnlyList<ScheduleRecord>> ListAsync(CancellationToken cancellationToken) => store.SchedulesListAsync(cancellationToken);

    public Task<ScheduleRecord?> GetAsync(string name, CancellationToken cancellationToken) => store.ScheduleGetAsync(name, cancellationToken);

    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        var deleted = await store.ScheduleDeleteAsync(name, cancellationToken).ConfigureAwait(false);
        signal.Changed();
        return deleted;
    }

    /// <summary>Pauses or resumes; a resumed schedule goes on from its next tick after now. Null when there is no such schedule.</summary>
    public async Task<ScheduleRecord?> PauseAsync(string name, bool paused, CancellationToken cancellationToken)
    {
        var current = await store.ScheduleGetAsync(name, cancellationToken).ConfigureAwait(false);
        if (current is null)
        {
            return null;
        }

        var now = time.GetUtcNow();
        var next = paused ? current.NextRunAt : FromRecord(current).Next(now);
        var stored = await store.SchedulePauseAsync(new SchedulePauseParams(name, paused, next, now), cancellationToken).ConfigureAwait(false);
        signal.Changed();
        return stored;
    }

    /// <summary>
    /// Enqueues the schedule's task now, outside its ticks (paused or not), recorded with the schedule and now as its
    /// tick. Null when there is no such schedule.
    /// </summary>
    /// <exception cref="TaskValidationException">The template no longer passes (its type was removed, say).</exception>
    /// <exception cref="TaskQueueFullException">The queue holds <see cref="TaskSystemOptions.MaxQueued"/> tasks; nothing was enqueued.</exception>
    public async Task<TaskInfo?> TriggerAsync(string name, CancellationToken cancellationToken)
    {
        var current = await store.ScheduleGetAsync(name, cancellationToken).ConfigureAwait(false);
        if (current is null)
        {
            return null;
        }

        var now = time.GetUtcNow();
        var (task, payload) = validator.Prepare(FromRecord(current).Template.ToRequest(), now);
        task = task with { Schedule = name, ScheduledFor = now };
        if (!counts.TryReserve(1))
        {
            metrics.Rejected([task]);
            var settings = options.Value;
            throw new TaskQueueFullException(
                $"The queue is full: about {counts.Waiting} tasks wait and TaskSystem:MaxQueued is {settings.MaxQueued}. Try again in {settings.CountsRefreshInterval.TotalSeconds:0.#} s.",
                settings.CountsRefreshInterval);
        }

        TaskRecord inserted;
        try
        {
            inserted = (await store.TasksInsertAsync(new TasksInsertParams([task]), cancellationToken).ConfigureAwait(false))[0];
        }
        catch
        {
            counts.Unreserve(1);
            throw;
        }

        counts.Commit(1);
        metrics.Enqueued([task]);
        enqueuer.Wake(inserted.RunAt, inserted.Type);
        return TaskInfo.From(inserted, inserted.Existing ? null : payload);
    }

    public static string Wire(ScheduleOverlap overlap) => overlap == ScheduleOverlap.Skip ? "skip" : "allow";

    public static string Wire(ScheduleMisfire misfire) => misfire == ScheduleMisfire.RunOnce ? "runOnce" : "skip";
}
