using Microsoft.AspNetCore.Http.HttpResults;

namespace TaskSystem.Samples.AspNetCore.Reports;

/// <summary>The app's own endpoint: it asks for a report and answers at once with the task that will make it.</summary>
public static class ReportsApi
{
    public static IEndpointRouteBuilder MapReports(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/reports", RequestReportAsync).RequireAuthorization(SampleApplication.OperatorsPolicy);
        return endpoints;
    }

    /// <summary>Enqueues a report; what a unit test calls with TaskSystem.Testing's fake <see cref="ITaskManager"/>.</summary>
    public static async Task<Accepted<ReportAccepted>> RequestReportAsync(ReportRequest request, ITaskManager tasks, CancellationToken cancellationToken)
    {
        var task = await tasks.EnqueueAsync(GenerateReportHandler.Type, request, SampleJson.Default.ReportRequest, cancellationToken);
        return TypedResults.Accepted($"/api/tasks/{task.Id}", new ReportAccepted(task.Id));
    }
}

/// <summary>The answer to <c>POST /reports</c>: the id of the task that makes the report.</summary>
public sealed record ReportAccepted(long TaskId);
