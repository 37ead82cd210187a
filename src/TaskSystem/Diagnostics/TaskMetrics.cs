using System.Diagnostics.Metrics;
using TaskSystem.Engine;
using TaskSystem.Storage;

namespace TaskSystem.Diagnostics;

/// <summary>
/// Every TaskSystem metric, on a <see cref="Meter"/> named <see cref="TaskSystemDiagnostics.MeterName"/> made by the
/// host's <see cref="IMeterFactory"/>. Hot paths check <see cref="Instrument.Enabled"/> first, so a node nobody
/// listens to pays one branch per event. The queue-depth gauge reads a cache refreshed by a maintenance loop:
/// a scrape never runs a query.
/// </summary>
internal sealed class TaskMetrics
{
    public const string TaskState = "task.state";

    private static readonly double[] SecondsBuckets =
        [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

    private readonly Counter<long> _enqueued;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _started;
    private readonly Counter<long> _succeeded;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _cancelled;
    private readonly Counter<long> _retried;
    private readonly Counter<long> _deleted;
    private readonly Counter<long> _releasedAhead;
    private readonly Histogram<double> _queueWait;
    private readonly Histogram<double> _duration;
    private readonly ObservableGauge<long> _depth;
    private readonly Counter<long> _maintenanceRuns;
    private readonly Histogram<double> _maintenanceDuration;
    private readonly QueueCounts _counts;
    private readonly KeyValuePair<string, object?> _node;

    public TaskMetrics(IMeterFactory meterFactory, WorkerSlots slots, TasksClaimedAhead ahead, QueueCounts counts, EngineSettings settings)
    {
        _counts = counts;
        _node = new(TaskTracing.Node, settings.Node);
        var meter = meterFactory.Create(new MeterOptions(TaskSystemDiagnostics.MeterName)
        {
            Version = typeof(TaskMetrics).Assembly.GetName().Version?.ToString(),
        });

        _enqueued = meter.CreateCounter<long>("tasksystem.tasks.enqueued", "{task}", "Tasks accepted (committed to the store).");
        _rejected = meter.CreateCounter<long>("tasksystem.tasks.rejected", "{task}", "Tasks refused because the queue was full (TaskSystem:MaxQueued).");
        _started = meter.CreateCounter<long>("tasksystem.tasks.started", "{task}", "Attempts started by this node.");
        _succeeded = meter.CreateCounter<long>("tasksystem.tasks.succeeded", "{task}", "Tasks that succeeded on this node.");
        _failed = meter.CreateCounter<long>("tasksystem.tasks.failed", "{task}", "Tasks that failed for good on this node (attempts used up).");
        _cancelled = meter.CreateCounter<long>("tasksystem.tasks.cancelled", "{task}", "Tasks cancelled: stopped while waiting, or stopped while running on this node.");
        _retried = meter.CreateCounter<long>("tasksystem.tasks.retried", "{task}", "Failed attempts on this node that were scheduled for a retry.");
        _deleted = meter.CreateCounter<long>("tasksystem.tasks.deleted", "{task}", "Finished tasks deleted by retention (TaskSystem:Retention).");
        _queueWait = meter.CreateHistogram<double>(
            "tasksystem.task.queue_wait", "s", "Time from when an attempt could run (enqueue, run-at or retry time) to its start.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        _duration = meter.CreateHistogram<double>(
            "tasksystem.task.duration", "s", "Run time of one attempt, by outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        _depth = meter.CreateObservableGauge(
            "tasksystem.queue.depth", ObserveDepth, "{task}", "Unfinished tasks per queue and state (queued, scheduled, running), from a cache refreshed every TaskSystem:CountsRefreshInterval.");
        _maintenanceRuns = meter.CreateCounter<long>(
            "tasksystem.maintenance.runs", "{run}", "Runs of a maintenance loop (heartbeat, rescuer, stop poller, retention, queue counts), by outcome.");
        _maintenanceDuration = meter.CreateHistogram<double>(
            "tasksystem.maintenance.duration", "s", "Duration of one run of a maintenance loop, by outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        meter.CreateObservableUpDownCounter("tasksystem.workers.busy", () => new Measurement<int>(slots.Busy, _node), "{worker}", "Workers running a task on this node.");
        meter.CreateObservableUpDownCounter("tasksystem.workers.total", () => new Measurement<int>(slots.Capacity, _node), "{worker}", "Workers on this node (TaskSystem:Concurrency).");
        meter.CreateObservableUpDownCounter(
            "tasksystem.tasks.claimed_ahead", () => new Measurement<int>(ahead.Count, _node), "{task}", "Tasks claimed ahead of a free worker, waiting for one on this node (TaskSystem:ClaimAhead).");
        _releasedAhead = meter.CreateCounter<long>(
            "tasksystem.tasks.claimed_ahead.released", "{task}", "Tasks claimed ahead that went back to the queue unstarted: no worker freed up in time, or the node stopped.");
    }

    public void ReleasedAhead(int count)
    {
        if (count > 0)
        {
            _releasedAhead.Add(count, _node);
        }
    }

    /// <summary>True when someone listens to the queue-depth gauge: only then are the counts worth refreshing.</summary>
    public bool DepthObserved => _depth.Enabled;

    public void Enqueued(IReadOnlyList<NewTask> tasks)
    {
        if (_enqueued.Enabled)
        {
            foreach (var task in tasks)
            {
                _enqueued.Add(1, Type(task.Type), Queue(task.Queue));
            }
        }
    }

    public void Rejected(IReadOnlyList<NewTask> tasks)
    {
        if (_rejected.Enabled)
        {
            foreach (var task in tasks)
            {
                _rejected.Add(1, Type(task.Type), Queue(task.Queue));
            }
        }
    }

    public void Started(TaskRecord task)
    {
        if (_started.Enabled)
        {
            _started.Add(1, Type(task.Type), Queue(task.Queue));
        }

        if (_queueWait.Enabled && task.StartedAt is { } startedAt)
        {
            _queueWait.Record(Math.Max(0, (startedAt - task.RunAt).TotalSeconds), Type(task.Type), Queue(task.Queue));
        }
    }

    public void AttemptFinished(TaskRecord task, CompletionKind kind, TimeSpan duration)
    {
        if (_duration.Enabled)
        {
            _duration.Record(duration.TotalSeconds, Type(task.Type), Queue(task.Queue), new(TaskTracing.TaskOutcome, Outcome(kind)));
        }
    }

    /// <summary>An outcome the store applied.</summary>
    public void Completed(TaskRecord task, CompletionKind kind)
    {
        var counter = kind switch
        {
            CompletionKind.Succeeded => _succeeded,
            CompletionKind.Failed => _failed,
            CompletionKind.Cancelled => _cancelled,
            CompletionKind.Retry => _retried,
            _ => null,
        };
        if (counter is { Enabled: true })
        {
            counter.Add(1, Type(task.Type), Queue(task.Queue));
        }
    }

    /// <summary>A waiting task stopped before it ever ran.</summary>
    public void Cancelled(TaskRecord task)
    {
        if (_cancelled.Enabled)
        {
            _cancelled.Add(1, Type(task.Type), Queue(task.Queue));
        }
    }

    public void Deleted(int count)
    {
        if (count > 0)
        {
            _deleted.Add(count);
        }
    }

    /// <summary>One run of a maintenance loop ended; <paramref name="name"/> is the loop's tag (built once by the loop).</summary>
    public void MaintenanceRan(KeyValuePair<string, object?> name, bool succeeded, TimeSpan duration)
    {
        var outcome = succeeded ? MaintenanceOk : MaintenanceFailed;
        if (_maintenanceRuns.Enabled)
        {
            _maintenanceRuns.Add(1, name, outcome);
        }

        if (_maintenanceDuration.Enabled)
        {
            _maintenanceDuration.Record(duration.TotalSeconds, name, outcome);
        }
    }

    public const string MaintenanceName = "maintenance.name";
    public const string MaintenanceOutcome = "maintenance.outcome";

    private static readonly KeyValuePair<string, object?> MaintenanceOk = new(MaintenanceOutcome, "ok");
    private static readonly KeyValuePair<string, object?> MaintenanceFailed = new(MaintenanceOutcome, "error");

    public static string Outcome(CompletionKind kind) => kind switch
    {
        CompletionKind.Succeeded => "succeeded",
        CompletionKind.Retry => "retry",
        CompletionKind.Failed => "failed",
        CompletionKind.Cancelled => "cancelled",
        CompletionKind.Interrupted => "interrupted",
        _ => "released",
    };

    private IEnumerable<Measurement<long>> ObserveDepth()
    {
        foreach (var (queue, state, count) in _counts.Observe())
        {
            yield return new Measurement<long>(count, Queue(queue), new(TaskState, state.ToWire()));
        }
    }

    private static KeyValuePair<string, object?> Type(string type) => new(TaskTracing.TaskType, type);

    private static KeyValuePair<string, object?> Queue(string queue) => new(TaskTracing.TaskQueue, queue);
}
