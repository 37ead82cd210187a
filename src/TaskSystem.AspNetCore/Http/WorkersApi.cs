using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using TaskSystem.ExternalWorkers;

namespace TaskSystem.AspNetCore.Http;

/// <summary>
/// The external worker protocol (docs/workers.md): workers in any language claim tasks with a long poll, renew their
/// lease by heartbeat (which brings a stop back), and complete or fail each task under its lease. A report under a
/// lease that no longer holds the task gets 409 with the reason (<c>stopped</c>, <c>leaseLost</c>, <c>finished</c>).
/// Same API keys as the rest of the API; bad input gets 400 naming the field.
/// </summary>
internal static class WorkersApi
{
    private static readonly string[] ClaimFields = ["worker", "types", "queues", "max", "waitSeconds", "leaseSeconds"];
    private static readonly string[] HeartbeatFields = ["leaseToken", "leaseSeconds", "waitSeconds", "progress"];
    private static readonly string[] CompleteFields = ["leaseToken", "result"];
    private static readonly string[] FailFields = ["leaseToken", "error", "retryable"];
    private static readonly string[] ReportFields = ["reports"];
    private static readonly string[] ReportItemFields = ["id", "leaseToken", "result", "error", "retryable"];

    /// <summary>Room per outcome in a report for its id, token and a small result, on top of one result of the largest size.</summary>
    private const int ReportItemAllowance = 1024;

    /// <summary>Maps <c>{prefix}/workers/claim</c>, <c>{prefix}/workers/report</c> and <c>{prefix}/tasks/{id}/heartbeat|complete|fail</c>.</summary>
    public static RouteGroupBuilder Map(IEndpointRouteBuilder endpoints, string prefix, TaskSystemEndpointOptions options)
    {
        var maxBody = TasksApi.MaxBodyBytes(endpoints.ServiceProvider.GetRequiredService<IOptions<TaskSystemOptions>>().Value);
        var workers = endpoints.MapGroup(prefix.TrimEnd('/'));
        workers.AddEndpointFilter(TaskProblemFilter.InvokeAsync);
        EndpointAccess.Apply(workers, options, "TaskSystem worker API");
        workers.WithTags("External workers").ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        workers.MapPost("/workers/claim", ClaimAsync).WithMetadata(new RequestSizeLimit(maxBody))
            .WithSummary("Claim tasks (a long poll)").Produces<ClaimResponse>()
            .Accepts<ClaimBody>(ApiDescriptions.JsonOrAny[0], ApiDescriptions.JsonOrAny[1..])
            .WithMetadata(new RequestBodyExample("""{"worker": "worker-1", "types": ["word-count"], "max": 1, "waitSeconds": 0}"""));
        workers.MapPost("/workers/report", ReportAsync).WithMetadata(new RequestSizeLimit(maxBody + ((long)WorkerLimits.MaxReports * ReportItemAllowance)))
            .WithSummary("Report many outcomes at once, each under its lease").Produces<ReportsResponse>()
            .Accepts<ReportsBody>(ApiDescriptions.JsonOrAny[0], ApiDescriptions.JsonOrAny[1..])
            .WithMetadata(new RequestBodyExample("""
                {"reports": [
                  {"id": 41, "leaseToken": "0c9a3f0e-2f7e-4a53-9d0a-4c6a1b2f3e4d", "result": {"words": 4}},
                  {"id": 42, "leaseToken": "0c9a3f0e-2f7e-4a53-9d0a-4c6a1b2f3e4d", "error": "the input was empty", "retryable": false}
                ]}
                """));
        var tasks = workers.MapGroup("/tasks/{id}");
        tasks.MapPost("/heartbeat", HeartbeatAsync).WithSummary("Extend a lease; learn of a stop").Produces<HeartbeatResponse>()
            .Accepts<HeartbeatBody>(ApiDescriptions.JsonOrAny[0], ApiDescriptions.JsonOrAny[1..])
            .WithMetadata(new RequestBodyExample("""{"leaseToken": "0c9a3f0e-2f7e-4a53-9d0a-4c6a1b2f3e4d"}"""));
        tasks.MapPost("/complete", CompleteAsync).WithSummary("Report success under a lease").Produces<ReportResponse>()
            .Accepts<CompleteBody>(ApiDescriptions.JsonOrAny[0], ApiDescriptions.JsonOrAny[1..])
            .WithMetadata(new RequestBodyExample("""{"leaseToken": "0c9a3f0e-2f7e-4a53-9d0a-4c6a1b2f3e4d", "result": {"words": 4}}"""));
        tasks.MapPost("/fail", FailAsync).WithSummary("Report a failed attempt under a lease").Produces<ReportResponse>()
            .Accepts<FailBody>(ApiDescriptions.JsonOrAny[0], ApiDescriptions.JsonOrAny[1..])
            .WithMetadata(new RequestBodyExample("""{"leaseToken": "0c9a3f0e-2f7e-4a53-9d0a-4c6a1b2f3e4d", "error": "the input was empty", "retryable": false}"""));
        tasks.WithMetadata(new RequestSizeLimit(maxBody)).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return workers;
    }

    private static async Task<JsonHttpResult<ClaimResponse>> ClaimAsync(
        HttpRequest request, ExternalTasks external, IOptions<TaskSystemOptions> options, IHostApplicationLifetime lifetime, CancellationToken cancellationToken)
    {
        WorkerClaim claim;
        using (var body = await WorkerBody.ReadAsync(request, options.Value, ClaimFields, cancellationToken))
        {
            claim = new WorkerClaim(
                body.String("worker", required: true)!,
                body.Strings("types", required: true)!,
                body.Strings("queues"),
                body.Integer("max"),
                body.Seconds("waitSeconds"),
                body.Seconds("leaseSeconds"));
        }

        // The long poll ends when the worker goes away or the server stops; tasks claimed just then go back to the queue.
        using var ends = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
        var claimed = await external.ClaimAsync(claim, ends.Token);
        return TypedResults.Json(new ClaimResponse([.. claimed.Select(ToResponse)]), WorkersJsonContext.Wire.ClaimResponse);
    }

    private static async Task<Results<JsonHttpResult<HeartbeatResponse>, ProblemHttpResult>> HeartbeatAsync(
        string id, HttpRequest request, ExternalTasks external, IOptions<TaskSystemOptions> options, IHostApplicationLifetime lifetime,
        CancellationToken cancellationToken)
    {
        if (!TryParseId(id, out var taskId))
        {
            return Problems.TaskNotFound(id);
        }

        string? leaseToken;
        TimeSpan? lease, wait;
        WorkerProgress? progress;
        using (var body = await WorkerBody.ReadAsync(request, options.Value, HeartbeatFields, cancellationToken))
        {
            (leaseToken, lease, wait) = (body.String("leaseToken", required: true), body.Seconds("leaseSeconds"), body.Seconds("waitSeconds"));
            progress = body.Progress("progress");
        }

        using var ends = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
        var answer = await external.HeartbeatAsync(taskId, leaseToken, lease, wait, ends.Token, progress);
        return answer.Lease is { } held
            ? TypedResults.Json(new HeartbeatResponse(held.StopRequested, held.ExpiresAt), WorkersJsonContext.Wire.HeartbeatResponse)
            : Refused(answer.Refused!);
    }

    private static async Task<Results<JsonHttpResult<ReportResponse>, ProblemHttpResult>> CompleteAsync(
        string id, HttpRequest request, ExternalTasks external, IOptions<TaskSystemOptions> options, CancellationToken cancellationToken)
    {
        if (!TryParseId(id, out var taskId))
        {
            return Problems.TaskNotFound(id);
        }

        string? leaseToken, result;
        using (var body = await WorkerBody.ReadAsync(request, options.Value, CompleteFields, cancellationToken))
        {
            (leaseToken, result) = (body.String("leaseToken", required: true), body.RawJson("result"));
        }

        // Once read, the report is written whatever happens to the connection: the worker may send it again.
        return Answer(taskId, await external.CompleteAsync(taskId, leaseToken, result, CancellationToken.None));
    }

    private static async Task<Results<JsonHttpResult<ReportResponse>, ProblemHttpResult>> FailAsync(
        string id, HttpRequest request, ExternalTasks external, IOptions<TaskSystemOptions> options, CancellationToken cancellationToken)
    {
        if (!TryParseId(id, out var taskId))
        {
            return Problems.TaskNotFound(id);
        }

        string? leaseToken, error;
        bool retryable;
        using (var body = await WorkerBody.ReadAsync(request, options.Value, FailFields, cancellationToken))
        {
            (leaseToken, error, retryable) = (body.String("leaseToken", required: true), body.String("error", required: true), body.Boolean("retryable", absent: true));
        }

        return Answer(taskId, await external.FailAsync(taskId, leaseToken, error, retryable, CancellationToken.None));
    }

    /// <summary>
    /// Many outcomes in one request and one durable write: the way to report at the rate a claim of a hundred hands
    /// out tasks. Each is fenced by its own lease and answered in its place, a refusal as a problem of its own; a
    /// malformed report refuses the whole request (400 naming <c>reports[i].field</c>) and records nothing.
    /// </summary>
    private static async Task<JsonHttpResult<ReportsResponse>> ReportAsync(
        HttpRequest request, ExternalTasks external, IOptions<TaskSystemOptions> options, CancellationToken cancellationToken)
    {
        var reports = new List<WorkerReport>();
        var maxBytes = TasksApi.MaxBodyBytes(options.Value) + ((long)WorkerLimits.MaxReports * ReportItemAllowance);

        // Three levels around a result: the body, its reports array, the report.
        using (var body = await WorkerBody.ReadAsync(request, options.Value, ReportFields, cancellationToken, maxBytes, levels: 3))
        {
            foreach (var item in body.Objects("reports", ReportItemFields, WorkerLimits.MaxReports))
            {
                var (id, leaseToken) = (item.Id("id"), item.String("leaseToken", required: true));
                if (item.Has("error"))
                {
                    if (item.Has("result"))
                    {
                        throw new TaskValidationException($"reports[{reports.Count}].result",
                            $"reports[{reports.Count}] has both a result and an error: a success has a result, a failure an error.");
                    }

                    reports.Add(WorkerReport.Failure(id, leaseToken, item.String("error"), item.Boolean("retryable", absent: true)));
                }
                else
                {
                    reports.Add(WorkerReport.Success(id, leaseToken, item.RawJson("result")));
                }
            }
        }

        IReadOnlyList<ReportAnswer> answers;
        try
        {
            // Once read, the reports are written whatever happens to the connection: the worker may send them again.
            answers = await external.ReportAsync(reports, CancellationToken.None);
        }
        catch (TaskValidationException invalid) when (invalid.Index is { } index)
        {
            var field = $"reports[{index}].{invalid.Field ?? "id"}";
            throw new TaskValidationException(field, $"{field}: {invalid.Message}") { IsTooLarge = invalid.IsTooLarge };
        }

        var items = reports.Select((report, i) => answers[i].State is { } state
            ? new ReportItemResponse(report.Id, state.ToWire(), answers[i].RunAt, null)
            : new ReportItemResponse(report.Id, null, null, RefusalOf(answers[i].Refused!)));
        return TypedResults.Json(new ReportsResponse([.. items]), WorkersJsonContext.Wire.ReportsResponse);
    }

    private static Results<JsonHttpResult<ReportResponse>, ProblemHttpResult> Answer(long taskId, ReportAnswer answer) =>
        answer.State is { } state
            ? TypedResults.Json(new ReportResponse(taskId, state.ToWire(), answer.RunAt), WorkersJsonContext.Wire.ReportResponse)
            : Refused(answer.Refused!);

    /// <summary>404 for an unknown task; otherwise 409 with the reason as a field of the problem, for programs to act on.</summary>
    private static ProblemHttpResult Refused(LeaseRefused refused)
    {
        if (refused.Reason == LeaseRefusal.NotFound)
        {
            return Problems.Create(StatusCodes.Status404NotFound, refused.Detail);
        }

        return TypedResults.Problem(
            detail: refused.Detail,
            statusCode: StatusCodes.Status409Conflict,
            title: ReasonPhrases.GetReasonPhrase(StatusCodes.Status409Conflict),
            extensions: new Dictionary<string, object?> { ["reason"] = ReasonOf(refused), ["state"] = refused.State?.ToWire() });
    }

    /// <summary>A refusal in a batch report: what a report of that task alone would have answered, as an item.</summary>
    private static ReportRefusalResponse RefusalOf(LeaseRefused refused) => refused.Reason == LeaseRefusal.NotFound
        ? new ReportRefusalResponse(StatusCodes.Status404NotFound, "notFound", refused.Detail, null)
        : new ReportRefusalResponse(StatusCodes.Status409Conflict, ReasonOf(refused), refused.Detail, refused.State?.ToWire());

    private static string ReasonOf(LeaseRefused refused) => refused.Reason switch
    {
        LeaseRefusal.NotFound => "notFound",
        LeaseRefusal.Stopped => "stopped",
        LeaseRefusal.Finished => "finished",
        _ => "leaseLost",
    };

    private static ClaimedTaskResponse ToResponse(ClaimedTask claimed)
    {
        var task = claimed.Task;
        return new ClaimedTaskResponse(
            task.Id,
            task.Type,
            task.Queue,
            task.Priority,
            new RawJson(task.PayloadJson),
            task.Attempt,
            task.MaxAttempts,
            task.Timeout.TotalSeconds,
            task.CreatedAt,
            claimed.Lease.ToString(),
            claimed.LeaseExpiresAt);
    }

    private static bool TryParseId(string id, out long taskId) =>
        long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out taskId) && taskId > 0;
}
