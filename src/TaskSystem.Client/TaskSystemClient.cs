using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TaskSystem.Client;

/// <summary>
/// A TaskSystem server's HTTP API, typed. Register it with <c>services.AddTaskSystemHttpClient(baseUri, apiKey)</c>;
/// the HttpClient it is given carries the address and the key. Every error answer throws a
/// <see cref="TaskSystemApiException"/> with the server's problem details.
/// </summary>
public sealed partial class TaskSystemClient
{
    private static readonly JsonSerializerOptions Json = JsonSerializerOptions.Web;
    private readonly HttpClient _http;

    /// <summary>A client over <paramref name="http"/>, whose base address is the server's (the API's prefix included, e.g. <c>http://host:4000/</c>).</summary>
    public TaskSystemClient(HttpClient http)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
    }

    /// <summary>
    /// Enqueues a task; returns it once the server has committed it (201). With <see cref="TaskSystemEnqueueOptions.Key"/>
    /// set and held by an earlier task, nothing is added: the earlier task comes back with <see cref="TaskSystemTask.Existing"/> true.
    /// </summary>
    /// <typeparam name="TPayload">The payload's type, serialized as JSON with web defaults (camelCase).</typeparam>
    public async Task<TaskSystemTask> EnqueueAsync<TPayload>(string type, TPayload payload, TaskSystemEnqueueOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        var envelope = Envelope(type, JsonSerializer.SerializeToNode(payload, Json), options);
        using var response = await _http.PostAsJsonAsync("tasks", envelope, Json, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<TaskSystemTask>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The task with this id.</summary>
    /// <exception cref="TaskSystemApiException">404 when there is none.</exception>
    public async Task<TaskSystemTask> GetAsync(long id, CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync(TaskPath(id), cancellationToken).ConfigureAwait(false);
        return await ReadAsync<TaskSystemTask>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every task the filter selects, newest first, fetched a page at a time as the enumeration proceeds.</summary>
    public async IAsyncEnumerable<TaskSystemTask> ListAsync(TaskListFilter? filter = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? cursor = null;
        do
        {
            var page = await ListPageAsync(filter, cursor, cancellationToken).ConfigureAwait(false);
            foreach (var task in page.Tasks)
            {
                yield return task;
            }

            cursor = page.NextCursor;
        }
        while (cursor is not null);
    }

    /// <summary>
    /// One page of the tasks the filter selects, newest first: at most <see cref="TaskListFilter.PageSize"/> tasks,
    /// from <paramref name="cursor"/> (a previous page's <see cref="TaskSystemTaskPage.NextCursor"/>; null for the first).
    /// </summary>
    /// <exception cref="TaskSystemApiException">400 for a bad state name or cursor.</exception>
    public async Task<TaskSystemTaskPage> ListPageAsync(TaskListFilter? filter = null, string? cursor = null, CancellationToken cancellationToken = default)
    {
        filter ??= new TaskListFilter();
        var query = "tasks?state=" + Uri.EscapeDataString(filter.States is { Count: > 0 } states ? string.Join(',', states) : "all")
            + "&limit=" + filter.PageSize.ToString(CultureInfo.InvariantCulture)
            + (filter.Type is null ? "" : "&type=" + Uri.EscapeDataString(filter.Type))
            + (filter.Queue is null ? "" : "&queue=" + Uri.EscapeDataString(filter.Queue))
            + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
        using var response = await _http.GetAsync(query, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<TaskSystemTaskPage>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Stops a task: true once it no longer runs (or was already cancelled); false when the stop is recorded but the
    /// node running it has not confirmed yet (202, only with several nodes).
    /// </summary>
    /// <exception cref="TaskSystemApiException">409 when it had already finished; 404 when unknown.</exception>
    public async Task<bool> StopAsync(long id, CancellationToken cancellationToken = default)
    {
        using var response = await _http.DeleteAsync(TaskPath(id), cancellationToken).ConfigureAwait(false);
        await ThrowIfProblemAsync(response, cancellationToken).ConfigureAwait(false);
        return response.StatusCode != HttpStatusCode.Accepted;
    }

    /// <summary>Puts a failed or cancelled task back in the queue with a fresh set of attempts.</summary>
    /// <exception cref="TaskSystemApiException">409 unless it is failed or cancelled; 404 when unknown.</exception>
    public async Task<TaskSystemTask> RetryAsync(long id, CancellationToken cancellationToken = default)
    {
        using var response = await _http.PostAsync(TaskPath(id) + "/retry", content: null, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<TaskSystemTask>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits until the task has finished (succeeded, failed or cancelled), asking every <paramref name="pollInterval"/> (default 0.5 s).</summary>
    public async Task<TaskSystemTask> WaitAsync(long id, TimeSpan? pollInterval = null, CancellationToken cancellationToken = default)
    {
        var interval = pollInterval ?? TimeSpan.FromMilliseconds(500);
        while (true)
        {
            var task = await GetAsync(id, cancellationToken).ConfigureAwait(false);
            if (task.IsFinished)
            {
                return task;
            }

            await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string TaskPath(long id) => "tasks/" + id.ToString(CultureInfo.InvariantCulture);

    /// <summary>The enqueue envelope: <c>{"type", "payload", "queue", ...}</c> with only the options that are set.</summary>
    private static JsonObject Envelope(string type, JsonNode? payload, TaskSystemEnqueueOptions? options)
    {
        var envelope = new JsonObject { ["type"] = type };
        if (payload is not null)
        {
            envelope["payload"] = payload;
        }

        if (options is not null)
        {
            AddIfSet(envelope, "queue", options.Queue);
            AddIfSet(envelope, "priority", options.Priority);
            AddIfSet(envelope, "maxAttempts", options.MaxAttempts);
            AddIfSet(envelope, "timeoutSeconds", options.Timeout?.TotalSeconds);
            AddIfSet(envelope, "runAt", options.RunAt?.ToString("O", CultureInfo.InvariantCulture));
            AddIfSet(envelope, "key", options.Key);
        }

        return envelope;
    }

    private static void AddIfSet<T>(JsonObject envelope, string name, T? value)
    {
        if (value is not null)
        {
            envelope[name] = JsonValue.Create(value);
        }
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await ThrowIfProblemAsync(response, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken).ConfigureAwait(false)
            ?? throw new TaskSystemApiException($"The server answered {(int)response.StatusCode} without a body.");
    }

    private static async Task ThrowIfProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        JsonElement? problem = null;
        try
        {
            problem = JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's page, say): the status alone is known.
        }

        var retryAfter = response.Headers.RetryAfter is { } header
            ? header.Delta ?? (header.Date is { } date ? date - TimeProvider.System.GetUtcNow() : null)
            : null;
        throw new TaskSystemApiException(
            response.StatusCode, Member(problem, "title"), Member(problem, "detail") ?? (problem is null && text.Length > 0 ? text : null), Member(problem, "field"), retryAfter, problem);
    }

    private static string? Member(JsonElement? problem, string name) =>
        problem is { ValueKind: JsonValueKind.Object } value && value.TryGetProperty(name, out var member) && member.ValueKind == JsonValueKind.String
            ? member.GetString()
            : null;
}
