namespace TaskSystem.Samples.AspNetCore.Reports;

/// <summary>What a report task gets: the customer and the month to report on.</summary>
public sealed record ReportRequest(string Customer, int Year, int Month);

/// <summary>What it returns, stored as the task's result.</summary>
public sealed record ReportResult(string Customer, string Period, int Lines);

/// <summary>
/// The app's own handler, typed: TaskSystem reads the payload as a <see cref="ReportRequest"/> (refusing, at enqueue,
/// one that does not fit) and stores the <see cref="ReportResult"/>. Month 13 fails on purpose, to show a failed
/// attempt with its stack trace on the dashboard.
/// </summary>
[TaskType(Type)]
public sealed class GenerateReportHandler(TimeProvider time) : ITaskHandler<ReportRequest, ReportResult>
{
    public const string Type = "generate-report";

    public async ValueTask<ReportResult> HandleAsync(ReportRequest payload, TaskContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (payload.Month is < 1 or > 12)
        {
            throw new ArgumentOutOfRangeException(nameof(payload), payload.Month, "A month is 1 to 12.");
        }

        ArgumentNullException.ThrowIfNull(context);
        await context.ReportProgressAsync(0, "querying");
        await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken); // Stands in for the queries.
        await context.ReportProgressAsync(100, "done");
        return new ReportResult(payload.Customer, $"{payload.Year:D4}-{payload.Month:D2}", 42);
    }
}
