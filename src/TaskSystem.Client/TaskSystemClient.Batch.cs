using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TaskSystem.Client;

public sealed partial class TaskSystemClient
{
    /// <summary>
    /// Enqueues several tasks in one request (<c>POST /tasks/batch</c>), stored in one commit: all or none. The answer
    /// holds the tasks in the order given; one whose key was held is the earlier task, with <see cref="TaskSystemTask.Existing"/> true.
    /// </summary>
    /// <exception cref="TaskSystemApiException">400 naming the item at fault (<c>tasks[3].type</c>); 413; 503 when the queue is full.</exception>
    public async Task<IReadOnlyList<TaskSystemTask>> EnqueueBatchAsync(IEnumerable<TaskSystemBatchItem> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        var tasks = new JsonArray();
        foreach (var item in items)
        {
            ArgumentNullException.ThrowIfNull(item);
            ArgumentException.ThrowIfNullOrEmpty(item.Type);
            var payload = item.Payload is null ? null : JsonSerializer.SerializeToNode(item.Payload, item.Payload.GetType(), Json);
            tasks.Add(Envelope(item.Type, payload, item.Options));
        }

        using var response = await _http.PostAsJsonAsync("tasks/batch", new JsonObject { ["tasks"] = tasks }, Json, cancellationToken).ConfigureAwait(false);
        var created = await ReadAsync<TaskBatch>(response, cancellationToken).ConfigureAwait(false);
        return created.Tasks;
    }

    /// <summary>Stops, retries or deletes the tasks with these ids (at most 1,000; use a filter for more) in one request.</summary>
    public Task<TaskSystemBulkResult> BulkAsync(TaskSystemBulkAction action, IEnumerable<long> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var body = new JsonObject { ["action"] = ActionName(action), ["ids"] = new JsonArray([.. ids.Select(id => (JsonNode)JsonValue.Create(id))]) };
        return BulkAsync(body, cancellationToken);
    }

    /// <summary>Stops, retries or deletes every task the filter selects, in one request.</summary>
    public Task<TaskSystemBulkResult> BulkAsync(TaskSystemBulkAction action, TaskSystemBulkFilter filter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var selection = new JsonObject();
        if (filter.States is { Count: > 0 } states)
        {
            selection["state"] = new JsonArray([.. states.Select(s => (JsonNode)JsonValue.Create(s))]);
        }

        AddIfSet(selection, "queue", filter.Queue);
        AddIfSet(selection, "type", filter.Type);
        AddIfSet(selection, "createdBefore", filter.CreatedBefore?.ToString("O", CultureInfo.InvariantCulture));
        return BulkAsync(new JsonObject { ["action"] = ActionName(action), ["filter"] = selection }, cancellationToken);
    }

    private async Task<TaskSystemBulkResult> BulkAsync(JsonObject body, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsJsonAsync("tasks/bulk", body, Json, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<TaskSystemBulkResult>(response, cancellationToken).ConfigureAwait(false);
    }

    private static string ActionName(TaskSystemBulkAction action) => action switch
    {
        TaskSystemBulkAction.Stop => "stop",
        TaskSystemBulkAction.Retry => "retry",
        TaskSystemBulkAction.Delete => "delete",
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, "Not a bulk action."),
    };

    private sealed record TaskBatch(IReadOnlyList<TaskSystemTask> Tasks);
}
