using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TaskSystem.Configuration;
using TaskSystem.Diagnostics;
using TaskSystem.Engine;
using TaskSystem.Storage;

namespace TaskSystem.Scheduling;

/// <summary>
/// Fires schedules' ticks on this node. It sleeps on one timer until the earliest due tick, or until a schedule changes
/// (here, or on another node: their signal reaches <see cref="ScheduleSignal"/> too), or the refresh interval passes
/// (for a lost signal), then fires every due schedule.
/// Every node does the same: the store lets one firing of a tick through (see <see cref="ITaskStore.ScheduleFireAsync"/>),
/// so a tick is fired as soon as any node is up, and only once.
/// </summary>
internal sealed class ScheduleRunner(
    ITaskStore store,
    Schedules schedules,
    TaskRequestValidator validator,
    TaskEnqueuer enqueuer,
    ScheduleSignal signal,
    QueueCounts counts,
    TaskMetrics metrics,
    TimeProvider time,
    IOptions<TaskSystemOptions> options,
    ILogger<ScheduleRunner> logger) : BackgroundService
{
    /// <summary>
    /// How often the schedules are read again when nothing is due: another node's change whose signal was lost shows
    /// up by then (a signal brings it within milliseconds).
    /// </summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(30);

    /// <summary>How long to wait after the store failed before trying again.</summary>
    private static readonly TimeSpan FailureBackoff = TimeSpan.FromSeconds(1);

    /// <summary>Writes the schedules the configuration and the library declare before the node starts: a bad one stops the start.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var (name, declared) in options.Value.Schedules)
        {
            ScheduleRecord stored;
            try
            {
                stored = await schedules.PutAsync(name, declared, cancellationToken).ConfigureAwait(false);
            }
            catch (TaskValidationException invalid)
            {
                throw new OptionsValidationException(
                    nameof(TaskSystemOptions), typeof(TaskSystemOptions),
                    [$"TaskSystem:Schedules:{name}:{invalid.Field ?? "?"}: {invalid.Message}"]);
            }

            Log.ScheduleDeclared(logger, name, stored.NextRunAt);
        }

        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                wait = await FireDueAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                Log.SchedulerFailed(logger, exception);
                wait = FailureBackoff;
            }

            try
            {
                await signal.WaitAsync(wait, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>Fires every due tick and returns how long to sleep until the next one (at most <see cref="RefreshInterval"/>).</summary>
    internal async Task<TimeSpan> FireDueAsync(CancellationToken cancellationToken)
    {
        var rows = await store.SchedulesListAsync(cancellationToken).ConfigureAwait(false);
        var wait = RefreshInterval;
        foreach (var row in rows)
        {
            var current = row;
            while (current is { Paused: false, NextRunAt: { } due } && due <= time.GetUtcNow())
            {
                current = await FireAsync(current, cancellationToken).ConfigureAwait(false);
            }

            if (current is { Paused: false, NextRunAt: { } next })
            {
                var until = next - time.GetUtcNow();
                wait = until < wait ? until : wait;
            }
        }

        return wait;
    }

    /// <summary>Fires the due tick of <paramref name="row"/>; returns the row after, or null when another node moved it first.</summary>
    private async Task<ScheduleRecord?> FireAsync(ScheduleRecord row, CancellationToken cancellationToken)
    {
        var definition = Schedules.FromRecord(row);
        var now = time.GetUtcNow();
        var due = row.NextRunAt!.Value;
        var tick = due;
        var makeTask = true;
        if (now - due > ScheduleDefinition.MisfireGrace)
        {
            // Missed ticks (no node ran): one decision for all of them, made on the latest.
            tick = definition.LatestDue(due, now);
            makeTask = definition.Misfire == ScheduleMisfire.RunOnce || now - tick <= ScheduleDefinition.MisfireGrace;
        }

        NewTask? task = null;
        if (makeTask)
        {
            try
            {
                task = validator.Prepare(definition.Template.ToRequest(), now).Task with { Schedule = row.Name, ScheduledFor = tick };
            }
            catch (TaskValidationException invalid)
            {
                Log.ScheduleTemplateInvalid(logger, row.Name, invalid.Message);
            }
        }

        // A tick's task is an enqueue like any other: TaskSystem:MaxQueued holds it back. The tick is skipped (the
        // schedule moves on), not retried: a full queue is a reason to add less work, and the next tick tries again.
        NewTask? refused = null;
        if (task is not null && !counts.TryReserve(1))
        {
            refused = task;
            task = null;
        }

        ScheduleFireResult result;
        try
        {
            result = await store.ScheduleFireAsync(
                new ScheduleFireParams(row.Name, due, tick, definition.Next(tick), task, definition.Overlap == ScheduleOverlap.Skip),
                cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            if (task is not null)
            {
                counts.Unreserve(1);
            }

            throw;
        }

        if (task is not null && result.Outcome != ScheduleFireOutcome.Fired)
        {
            counts.Unreserve(1);
        }

        switch (result.Outcome)
        {
            case ScheduleFireOutcome.Fired:
                counts.Commit(1);
                metrics.Enqueued([task!]);
                Log.ScheduleFired(logger, row.Name, tick, result.Task!.Id);
                enqueuer.Wake(result.Task.RunAt, result.Task.Type);
                break;
            case ScheduleFireOutcome.Skipped when refused is not null:
                // Said only by the node whose skip moved the schedule on: a node that lost the race refused nothing.
                metrics.Rejected([refused]);
                Log.ScheduleTickQueueFull(logger, row.Name, tick, counts.Waiting, options.Value.MaxQueued);
                break;
            case ScheduleFireOutcome.Skipped:
                Log.ScheduleTickSkipped(logger, row.Name, tick, task is null ? "missed" : "the previous task is unfinished");
                break;
        }

        // Lost: another node fired it; read where the schedule went, to sleep until its next tick.
        return result.Schedule ?? await store.ScheduleGetAsync(row.Name, cancellationToken).ConfigureAwait(false);
    }
}
