using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using TaskSystem.Scheduling;
using TaskSystem.Storage;

namespace TaskSystem.AspNetCore.Http;

/// <summary>
/// Recurring schedules over HTTP: list, read, create or replace, delete, pause, resume, and trigger now. Every error
/// is problem+json; a bad definition names its field (<c>cron</c>, <c>timeZone</c>, <c>every</c>, <c>type</c>, ...).
/// </summary>
internal static class SchedulesApi
{
    /// <summary>The fields of a schedule's body, in the order the docs list them.</summary>
    public static readonly string[] Fields =
        ["cron", "timeZone", "every", "type", "payload", "queue", "priority", "maxAttempts", "timeoutSeconds", "paused", "overlap", "misfire"];

    public static RouteGroupBuilder Map(IEndpointRouteBuilder endpoints, string prefix, TaskSystemEndpointOptions options)
    {
        var schedules = endpoints.MapGroup(prefix).AnswerHeadWhereGet();
        schedules.AddEndpointFilter(TaskProblemFilter.InvokeAsync);
        EndpointAccess.Apply(schedules, options, "TaskSystem schedules API");
        schedules.WithTags("Schedules").ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        schedules.MapGet("/", ListAsync).WithSummary("List the recurring schedules");
        schedules.MapGet("/{name}", GetAsync).WithSummary("Get a schedule").ProducesProblem(StatusCodes.Status404NotFound);
        schedules.MapPut("/{name}", PutAsync)
            .WithMetadata(new RequestSizeLimit(TasksApi.MaxBodyBytes(endpoints.ServiceProvider.GetRequiredService<IOptions<TaskSystemOptions>>().Value)))
            .WithSummary("Create or replace a schedule")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        schedules.MapDelete("/{name}", DeleteAsync).WithSummary("Delete a schedule").ProducesProblem(StatusCodes.Status404NotFound);
        schedules.MapPost("/{name}/pause", (string name, Schedules all, TaskManager manager, CancellationToken ct) => PauseAsync(name, true, all, manager, ct))
            .WithSummary("Pause a schedule").ProducesProblem(StatusCodes.Status404NotFound);
        schedules.MapPost("/{name}/resume", (string name, Schedules all, TaskManager manager, CancellationToken ct) => PauseAsync(name, false, all, manager, ct))
            .WithSummary("Resume a schedule").ProducesProblem(StatusCodes.Status404NotFound);
        schedules.MapPost("/{name}/trigger", TriggerAsync).WithSummary("Enqueue the schedule's task now")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        return schedules;
    }

    internal static async Task<Ok<ScheduleListResponse>> ListAsync(Schedules schedules, TaskManager manager, CancellationToken cancellationToken)
    {
        var rows = await schedules.ListAsync(cancellationToken);
        var responses = new List<ScheduleResponse>(rows.Count);
        foreach (var row in rows)
        {
            responses.Add(await ToResponseAsync(row, manager, cancellationToken));
        }

        return TypedResults.Ok(new ScheduleListResponse(responses));
    }

    internal static async Task<Results<Ok<ScheduleResponse>, ProblemHttpResult>> GetAsync(string name, Schedules schedules, TaskManager manager, CancellationToken cancellationToken) =>
        await schedules.GetAsync(name, cancellationToken) is { } row
            ? TypedResults.Ok(await ToResponseAsync(row, manager, cancellationToken))
            : NotFound(name);

    private static async Task<Results<Ok<ScheduleResponse>, ProblemHttpResult>> PutAsync(
        string name, HttpRequest request, Schedules schedules, TaskManager manager, IOptions<TaskSystemOptions> settings, CancellationToken cancellationToken)
    {
        var options = settings.Value;
        using var body = await JsonRequestBody.ReadAsync(request, TasksApi.MaxBodyBytes(options), options.MaxJsonDepth, envelopeLevels: 1, cancellationToken);
        var (definition, problem) = body.Problem is null ? Parse(body.Root) : (null, body.Problem);
        if (definition is null)
        {
            return Problems.Create(problem!.Status, problem.Detail, problem.Field);
        }

        var stored = await schedules.PutAsync(name, definition, cancellationToken);
        return TypedResults.Ok(await ToResponseAsync(stored, manager, cancellationToken));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string name, Schedules schedules, CancellationToken cancellationToken) =>
        await schedules.DeleteAsync(name, cancellationToken) ? TypedResults.NoContent() : NotFound(name);

    internal static async Task<Results<Ok<ScheduleResponse>, ProblemHttpResult>> PauseAsync(
        string name, bool paused, Schedules schedules, TaskManager manager, CancellationToken cancellationToken) =>
        await schedules.PauseAsync(name, paused, cancellationToken) is { } row
            ? TypedResults.Ok(await ToResponseAsync(row, manager, cancellationToken))
            : NotFound(name);

    internal static async Task<Results<Created<TaskResponse>, ProblemHttpResult>> TriggerAsync(
        string name, HttpRequest request, Schedules schedules, CancellationToken cancellationToken)
    {
        var task = await schedules.TriggerAsync(name, cancellationToken);
        return task is null
            ? NotFound(name)
            : TypedResults.Created($"{request.PathBase}/tasks/{task.Id.ToString(CultureInfo.InvariantCulture)}", TaskResponse.From(task));
    }

    private static ProblemHttpResult NotFound(string name) => Problems.Create(StatusCodes.Status404NotFound, $"No schedule is named '{name}'.");

    private static async Task<ScheduleResponse> ToResponseAsync(ScheduleRecord row, TaskManager manager, CancellationToken cancellationToken)
    {
        var template = JsonSerializer.Deserialize(row.TemplateJson, ScheduleJsonContext.Default.ScheduleTemplate)!;
        var last = row.LastTaskId is { } id ? await manager.GetAsync(id, cancellationToken) : null;
        return new ScheduleResponse(
            row.Name,
            row.Cron,
            row.TimeZone,
            row.Every?.ToString("c", CultureInfo.InvariantCulture),
            template.Type,
            template.Payload,
            template.Queue,
            template.Priority,
            template.MaxAttempts,
            template.TimeoutSeconds,
            row.Paused,
            row.Overlap,
            row.Misfire,
            row.NextRunAt,
            row.LastRunAt,
            row.LastTaskId,
            last?.State.ToWire(),
            row.UpdatedAt);
    }

    /// <summary>The definition a PUT body gives, or the first thing wrong with it (named by its field).</summary>
    internal static (ScheduleOptions? Options, RequestProblem? Problem) Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return Invalid("The request body must be a JSON object, for example {\"cron\": \"0 3 * * *\", \"type\": \"report\"}.");
        }

        var options = new ScheduleOptions();
        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            var name = property.Name;
            if (value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            switch (name)
            {
                case "cron" or "timeZone" or "type" or "queue":
                    if (value.ValueKind != JsonValueKind.String)
                    {
                        return Invalid($"{name} must be a string.", name);
                    }

                    var text = value.GetString();
                    _ = name switch
                    {
                        "cron" => options.Cron = text,
                        "timeZone" => options.TimeZone = text,
                        "type" => options.Type = text,
                        _ => options.Queue = text,
                    };
                    break;
                case "every":
                    if (!TryInterval(value, out var every))
                    {
                        return Invalid($"every must be an interval such as \"00:05:00\" (hh:mm:ss) or a number of seconds (got {value.GetRawText()}).", name);
                    }

                    options.Every = every;
                    break;
                case "payload":
                    if (value.ValueKind != JsonValueKind.Object)
                    {
                        return Invalid($"payload must be a JSON object (got {value.ValueKind.ToString().ToLowerInvariant()}).", name);
                    }

                    options.Payload = value.GetRawText();
                    break;
                case "priority" or "maxAttempts":
                    if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number))
                    {
                        return Invalid($"{name} must be an integer (got {value.GetRawText()}).", name);
                    }

                    _ = name == "priority" ? options.Priority = number : options.MaxAttempts = number;
                    break;
                case "timeoutSeconds":
                    if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var seconds))
                    {
                        return Invalid($"timeoutSeconds must be a number (got {value.GetRawText()}).", name);
                    }

                    options.TimeoutSeconds = seconds;
                    break;
                case "paused":
                    if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    {
                        return Invalid($"paused must be true or false (got {value.GetRawText()}).", name);
                    }

                    options.Paused = value.GetBoolean();
                    break;
                case "overlap":
                    switch (value.ValueKind == JsonValueKind.String ? value.GetString() : null)
                    {
                        case "allow": options.Overlap = ScheduleOverlap.Allow; break;
                        case "skip": options.Overlap = ScheduleOverlap.Skip; break;
                        default: return Invalid($"overlap must be \"allow\" or \"skip\" (got {value.GetRawText()}).", name);
                    }

                    break;
                case "misfire":
                    switch (value.ValueKind == JsonValueKind.String ? value.GetString() : null)
                    {
                        case "skip": options.Misfire = ScheduleMisfire.Skip; break;
                        case "runOnce": options.Misfire = ScheduleMisfire.RunOnce; break;
                        default: return Invalid($"misfire must be \"skip\" or \"runOnce\" (got {value.GetRawText()}).", name);
                    }

                    break;
                default:
                    return Invalid($"Unknown field '{name}' in a schedule. Allowed: {string.Join(", ", Fields)}.", name);
            }
        }

        return (options, null);
    }

    private static bool TryInterval(JsonElement value, out TimeSpan every)
    {
        every = default;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var seconds) && seconds is > 0 and < 1e9)
        {
            every = TimeSpan.FromSeconds(seconds);
            return true;
        }

        return value.ValueKind == JsonValueKind.String && TimeSpan.TryParse(value.GetString(), CultureInfo.InvariantCulture, out every) && every > TimeSpan.Zero;
    }

    private static (ScheduleOptions? Options, RequestProblem? Problem) Invalid(string detail, string? field = null) => (null, RequestProblem.Invalid(detail, field));
}

/// <summary>A schedule on the wire: its definition, and where it stands (next and last tick, the last task's state).</summary>
internal sealed record ScheduleResponse(
    string Name,
    string? Cron,
    string TimeZone,
    string? Every,
    string Type,
    JsonElement? Payload,
    string? Queue,
    int? Priority,
    int? MaxAttempts,
    double? TimeoutSeconds,
    bool Paused,
    string Overlap,
    string Misfire,
    DateTimeOffset? NextRunAt,
    DateTimeOffset? LastRunAt,
    long? LastTaskId,
    string? LastTaskState,
    DateTimeOffset UpdatedAt);

/// <summary>Every schedule, by name.</summary>
internal sealed record ScheduleListResponse(IReadOnlyList<ScheduleResponse> Schedules);
