using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using TaskSystem.Engine;

namespace TaskSystem.AspNetCore.Http;

/// <summary>
/// <c>POST /tasks/bulk</c>: <c>{"action": "stop" | "retry" | "delete", "ids": [...]}</c> or
/// <c>{"action": ..., "filter": {"state": [...], "queue": ..., "type": ..., "createdBefore": ...}}</c>, answering how
/// many tasks matched and how many were changed. Each task keeps its single-task rule; delete removes finished tasks only.
/// </summary>
internal static class TasksBulkApi
{
    private const int MaxBodyBytes = 64 * 1024;
    private static readonly string[] Fields = ["action", "ids", "filter"];
    private static readonly string[] FilterFields = ["state", "queue", "type", "createdBefore"];

    public static async Task<Results<Ok<BulkResponse>, ProblemHttpResult>> BulkAsync(
        HttpRequest request, TaskBulkActions bulk, IOptions<TaskSystemOptions> options, CancellationToken cancellationToken)
    {
        using var body = await JsonRequestBody.ReadAsync(request, MaxBodyBytes, options.Value.MaxJsonDepth, envelopeLevels: 2, cancellationToken);
        if (body.Problem is { } problem)
        {
            return Problems.Create(problem.Status, problem.Detail, problem.Field);
        }

        var (action, ids, filter, error) = Parse(body.Root);
        if (error is not null)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, error.Value.Detail, error.Value.Field);
        }

        // Once read, the action runs to its end whatever happens to the connection: a half-done bulk action is worse.
        var result = ids is not null
            ? await bulk.ApplyAsync(action, ids, CancellationToken.None)
            : await bulk.ApplyAsync(action, filter!, CancellationToken.None);
        return TypedResults.Ok(new BulkResponse(action.ToString().ToLowerInvariant(), result.Matched, result.Affected));
    }

    private static (BulkAction Action, IReadOnlyList<long>? Ids, BulkFilter? Filter, (string Field, string Detail)? Error) Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return Fail("", """The body must be a JSON object: {"action": "stop" | "retry" | "delete", "ids": [...]} or {"action": ..., "filter": {...}}.""");
        }

        foreach (var property in root.EnumerateObject())
        {
            if (!Fields.Contains(property.Name, StringComparer.Ordinal))
            {
                return Fail(property.Name, $"Unknown field '{property.Name}'. Allowed: {string.Join(", ", Fields)}.");
            }
        }

        if (!root.TryGetProperty("action", out var actionValue) || actionValue.ValueKind != JsonValueKind.String
            || !Enum.TryParse<BulkAction>(actionValue.GetString(), ignoreCase: true, out var action) || !Enum.IsDefined(action)
            || int.TryParse(actionValue.GetString(), CultureInfo.InvariantCulture, out _))
        {
            return Fail("action", "action must be \"stop\", \"retry\" or \"delete\".");
        }

        var hasIds = root.TryGetProperty("ids", out var idsValue);
        var hasFilter = root.TryGetProperty("filter", out var filterValue);
        if (hasIds == hasFilter)
        {
            return Fail(hasIds ? "filter" : "ids", "Give either ids (an array of task ids) or filter (an object), not both and not neither.");
        }

        if (hasIds)
        {
            if (idsValue.ValueKind != JsonValueKind.Array || idsValue.GetArrayLength() > TaskBulkActions.MaxIds)
            {
                return Fail("ids", $"ids must be an array of at most {TaskBulkActions.MaxIds} task ids; use a filter for more.");
            }

            var ids = new List<long>();
            foreach (var item in idsValue.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var id) || id < 1)
                {
                    return Fail("ids", $"ids must hold positive whole numbers (got {Shorten(item.GetRawText())}).");
                }

                ids.Add(id);
            }

            return (action, ids, null, null);
        }

        return ParseFilter(action, filterValue);
    }

    private static (BulkAction, IReadOnlyList<long>?, BulkFilter?, (string, string)?) ParseFilter(BulkAction action, JsonElement filter)
    {
        if (filter.ValueKind != JsonValueKind.Object)
        {
            return Fail("filter", "filter must be an object with any of state, queue, type, createdBefore.");
        }

        HashSet<TaskState>? states = null;
        string? queue = null, type = null;
        DateTimeOffset? createdBefore = null;
        foreach (var property in filter.EnumerateObject())
        {
            var field = "filter." + property.Name;
            var value = property.Value;
            switch (property.Name)
            {
                case "state":
                    states = [];
                    var names = value.ValueKind == JsonValueKind.Array ? value.EnumerateArray().ToList() : [value];
                    foreach (var name in names)
                    {
                        if (name.ValueKind != JsonValueKind.String || !TaskStates.TryParse(name.GetString()!, out var state))
                        {
                            return Fail(field, $"state must be a state or an array of states: {string.Join(", ", TaskStates.All.Select(s => s.ToWire()))} (got {Shorten(name.GetRawText())}).");
                        }

                        states.Add(state);
                    }

                    break;
                case "queue" or "type":
                    if (value.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(value.GetString()))
                    {
                        return Fail(field, $"{property.Name} must be a non-empty string.");
                    }

                    (queue, type) = property.Name == "queue" ? (value.GetString(), type) : (queue, value.GetString());
                    break;
                case "createdBefore":
                    if (value.ValueKind != JsonValueKind.String || !value.TryGetDateTimeOffset(out var before))
                    {
                        return Fail(field, $"createdBefore must be an ISO 8601 time with an offset, such as 2030-01-01T00:00:00Z (got {Shorten(value.GetRawText())}).");
                    }

                    createdBefore = before;
                    break;
                default:
                    return Fail(field, $"Unknown filter field '{property.Name}'. Allowed: {string.Join(", ", FilterFields)}.");
            }
        }

        return (action, null, new BulkFilter(states, queue, type, createdBefore), null);
    }

    private static (BulkAction, IReadOnlyList<long>?, BulkFilter?, (string, string)?) Fail(string field, string detail) =>
        (default, null, null, (field, detail));

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "…";
}

/// <summary>What a bulk action did: <c>matched</c> tasks it looked at, <c>affected</c> tasks it changed.</summary>
internal sealed record BulkResponse(string Action, long Matched, long Affected);
