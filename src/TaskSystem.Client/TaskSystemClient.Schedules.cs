using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TaskSystem.Client;

public sealed partial class TaskSystemClient
{
    /// <summary>Every recurring schedule, by name.</summary>
    public async Task<IReadOnlyList<TaskSystemSchedule>> ListSchedulesAsync(CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync("schedules", cancellationToken).ConfigureAwait(false);
        return (await ReadAsync<ScheduleList>(response, cancellationToken).ConfigureAwait(false)).Schedules;
    }

    /// <summary>The schedule with this name.</summary>
    /// <exception cref="TaskSystemApiException">404 when there is none.</exception>
    public async Task<TaskSystemSchedule> GetScheduleAsync(string name, CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync(SchedulePath(name), cancellationToken).ConfigureAwait(false);
        return await ReadAsync<TaskSystemSchedule>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates the schedule, or replaces its definition (<c>PUT /schedules/{name}</c>).</summary>
    /// <exception cref="TaskSystemApiException">400 naming the field at fault (a bad cron expression, say).</exception>
    public async Task<TaskSystemSchedule> PutScheduleAsync(string name, TaskSystemScheduleDefinition definition, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var body = new JsonObject();
        AddIfSet(body, "cron", definition.Cron);
        AddIfSet(body, "timeZone", definition.TimeZone);
        AddIfSet(body, "every", definition.Every?.TotalSeconds);
        AddIfSet(body, "type", definition.Type);
        if (definition.Payload is { } payload)
        {
            body["payload"] = JsonSerializer.SerializeToNode(payload, payload.GetType(), Json);
        }

        AddIfSet(body, "queue", definition.Queue);
        AddIfSet(body, "priority", definition.Priority);
        AddIfSet(body, "maxAttempts", definition.MaxAttempts);
        AddIfSet(body, "timeoutSeconds", definition.Timeout?.TotalSeconds);
        AddIfSet(body, "paused", definition.Paused);
        AddIfSet(body, "overlap", definition.Overlap);
        AddIfSet(body, "misfire", definition.Misfire);
        using var response = await _http.PutAsJsonAsync(SchedulePath(name), body, Json, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<TaskSystemSchedule>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes the schedule; the tasks it made stay.</summary>
    /// <exception cref="TaskSystemApiException">404 when there is none.</exception>
    public async Task DeleteScheduleAsync(string name, CancellationToken cancellationToken = default)
    {
        using var response = await _http.DeleteAsync(SchedulePath(name), cancellationToken).ConfigureAwait(false);
        await ThrowIfProblemAsync(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Pauses the schedule: no tick enqueues a task until it is resumed.</summary>
    /// <exception cref="TaskSystemApiException">404 when there is none.</exception>
    public Task<TaskSystemSchedule> PauseScheduleAsync(string name, CancellationToken cancellationToken = default) =>
        PostScheduleAsync<TaskSystemSchedule>(name, "pause", cancellationToken);

    /// <summary>Resumes a paused schedule.</summary>
    /// <exception cref="TaskSystemApiException">404 when there is none.</exception>
    public Task<TaskSystemSchedule> ResumeScheduleAsync(string name, CancellationToken cancellationToken = default) =>
        PostScheduleAsync<TaskSystemSchedule>(name, "resume", cancellationToken);

    /// <summary>Enqueues the schedule's task now, outside its ticks; returns the task.</summary>
    /// <exception cref="TaskSystemApiException">404 when there is none.</exception>
    public Task<TaskSystemTask> TriggerScheduleAsync(string name, CancellationToken cancellationToken = default) =>
        PostScheduleAsync<TaskSystemTask>(name, "trigger", cancellationToken);

    private async Task<T> PostScheduleAsync<T>(string name, string verb, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsync(SchedulePath(name) + "/" + verb, content: null, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<T>(response, cancellationToken).ConfigureAwait(false);
    }

    private static string SchedulePath(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return "schedules/" + Uri.EscapeDataString(name);
    }

    private sealed record ScheduleList(IReadOnlyList<TaskSystemSchedule> Schedules);
}
