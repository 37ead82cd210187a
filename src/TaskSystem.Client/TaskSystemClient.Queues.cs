namespace TaskSystem.Client;

public sealed partial class TaskSystemClient
{
    /// <summary>Every queue that has tasks or is paused, with its counts and pause state (<c>GET /queues</c>).</summary>
    public async Task<TaskSystemQueueList> ListQueuesAsync(CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync("queues", cancellationToken).ConfigureAwait(false);
        return await ReadAsync<TaskSystemQueueList>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Pauses a queue on every node: no task of it starts until it is resumed; running tasks finish.</summary>
    /// <exception cref="TaskSystemApiException">400 for an invalid queue name.</exception>
    public Task<TaskSystemQueuePause> PauseQueueAsync(string name, CancellationToken cancellationToken = default) =>
        SetQueueAsync(name, "pause", cancellationToken);

    /// <summary>Resumes a paused queue.</summary>
    /// <exception cref="TaskSystemApiException">400 for an invalid queue name.</exception>
    public Task<TaskSystemQueuePause> ResumeQueueAsync(string name, CancellationToken cancellationToken = default) =>
        SetQueueAsync(name, "resume", cancellationToken);

    private async Task<TaskSystemQueuePause> SetQueueAsync(string name, string verb, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        using var response = await _http.PostAsync("queues/" + Uri.EscapeDataString(name) + "/" + verb, content: null, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<TaskSystemQueuePause>(response, cancellationToken).ConfigureAwait(false);
    }
}
