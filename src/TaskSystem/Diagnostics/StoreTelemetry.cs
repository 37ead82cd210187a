using System.Collections;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace TaskSystem.Diagnostics;

/// <summary>
/// What every store call reports, whatever the store: its duration in a histogram and, for whoever traces the
/// <see cref="TaskSystemDiagnostics.StoreActivitySourceName"/> source, a span; both carry the operation and its
/// outcome (Oban wraps each engine call the same way). <see cref="Storage.InstrumentedTaskStore"/> calls it around
/// each store method, so the stores themselves hold no telemetry code.
/// </summary>
internal sealed class StoreTelemetry
{
    public const string OperationTag = "store.operation";
    public const string OutcomeTag = "store.outcome";
    public const string ErrorTypeTag = "error.type";

    public static readonly ActivitySource Source = new(TaskSystemDiagnostics.StoreActivitySourceName, typeof(StoreTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>From a tenth of a millisecond (a read from SQLite's cache) to the 30 s a write may wait on a busy database.</summary>
    private static readonly double[] SecondsBuckets =
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private static readonly KeyValuePair<string, object?> Ok = new(OutcomeTag, "ok");
    private static readonly KeyValuePair<string, object?> Failed = new(OutcomeTag, "error");
    private static readonly KeyValuePair<string, object?> Cancelled = new(OutcomeTag, "cancelled");

    private readonly Histogram<double> _duration;
    private readonly TimeProvider _time;

    public StoreTelemetry(IMeterFactory meterFactory, TimeProvider time)
    {
        _time = time;
        var meter = meterFactory.Create(new MeterOptions(TaskSystemDiagnostics.MeterName)
        {
            Version = typeof(StoreTelemetry).Assembly.GetName().Version?.ToString(),
        });
        _duration = meter.CreateHistogram<double>(
            "tasksystem.store.duration", "s", "Duration of one store call (a claim, a batch of outcomes, an insert...), by operation and outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
    }

    /// <summary>False when nobody listens to the histogram or the spans: the store is then called with no wrapper at all.</summary>
    public bool Enabled => _duration.Enabled || Source.HasListeners();

    /// <summary>Starts timing a call (and its span, if traced). Call <see cref="Finish"/> exactly once when it ends.</summary>
    public StoreCall Start(StoreOperation operation)
    {
        var activity = Source.HasListeners() ? Source.StartActivity(operation.SpanName, ActivityKind.Client) : null;
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(OperationTag, operation.Name);
        }

        return new StoreCall(operation, _time.GetTimestamp(), activity);
    }

    /// <summary>Records how the call ended: <paramref name="error"/> is null when it succeeded.</summary>
    public void Finish(in StoreCall call, Exception? error, object? result = null)
    {
        var outcome = error switch
        {
            null => Ok,
            OperationCanceledException => Cancelled,
            _ => Failed,
        };

        if (_duration.Enabled)
        {
            var seconds = _time.GetElapsedTime(call.Started).TotalSeconds;
            if (ReferenceEquals(outcome.Value, Failed.Value))
            {
                _duration.Record(seconds, call.Operation.Tag, outcome, new(ErrorTypeTag, error!.GetType().Name));
            }
            else
            {
                _duration.Record(seconds, call.Operation.Tag, outcome);
            }
        }

        if (call.Activity is not { } activity)
        {
            return;
        }

        if (activity.IsAllDataRequested)
        {
            activity.SetTag(OutcomeTag, outcome.Value);
            if (result is ICollection or IReadOnlyCollection<object>)
            {
                activity.SetTag(TaskTracing.TaskCount, result is ICollection rows ? rows.Count : ((IReadOnlyCollection<object>)result).Count);
            }

            if (error is not null && !ReferenceEquals(outcome.Value, Cancelled.Value))
            {
                activity.SetTag(ErrorTypeTag, error.GetType().Name);
                activity.SetStatus(ActivityStatusCode.Error, error.Message);
            }
        }

        activity.Dispose();
    }
}

/// <summary>One kind of store call: its name in metrics and spans, built once.</summary>
internal sealed class StoreOperation(string name)
{
    public string Name { get; } = name;

    public string SpanName { get; } = "store " + name;

    public KeyValuePair<string, object?> Tag { get; } = new(StoreTelemetry.OperationTag, name);
}

/// <summary>A store call being timed: what <see cref="StoreTelemetry.Finish"/> needs, kept on the stack.</summary>
internal readonly record struct StoreCall(StoreOperation Operation, long Started, Activity? Activity);
