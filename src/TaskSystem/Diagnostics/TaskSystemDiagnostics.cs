namespace TaskSystem.Diagnostics;

/// <summary>
/// The names under which TaskSystem publishes its telemetry through System.Diagnostics: subscribe with
/// OpenTelemetry (<c>AddMeter(TaskSystemDiagnostics.MeterName)</c>, <c>AddSource(TaskSystemDiagnostics.ActivitySourceName)</c>)
/// or any other listener. The instruments, spans and attributes are listed in docs/production.md.
/// </summary>
public static class TaskSystemDiagnostics
{
    /// <summary>The <see cref="System.Diagnostics.Metrics.Meter"/> of every TaskSystem metric.</summary>
    public const string MeterName = "TaskSystem";

    /// <summary>The <see cref="System.Diagnostics.ActivitySource"/> of the enqueue and run spans.</summary>
    public const string ActivitySourceName = "TaskSystem";

    /// <summary>
    /// The <see cref="System.Diagnostics.ActivitySource"/> of a span per store call (claims, batches of outcomes,
    /// inserts, maintenance queries). A source of its own, because an idle node still claims once per poll: trace it
    /// when you want the database's share of a request or of the dispatcher's rounds.
    /// </summary>
    public const string StoreActivitySourceName = "TaskSystem.Store";
}
