namespace TaskSystem.Handlers;

/// <summary>Where <see cref="TaskContext.ReportProgressAsync"/> sends an attempt's reports (checked and cut already).</summary>
internal interface ITaskProgressSink
{
    /// <summary>Records a report; may write it at once or later (coalescing).</summary>
    ValueTask ReportAsync(double percent, string? message);
}
