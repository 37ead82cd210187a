namespace TaskSystem.Storage;

/// <summary>
/// Signals between nodes that share a store (LISTEN/NOTIFY on PostgreSQL). Signals only wake things up: each
/// one has a slow poll behind it, so a lost signal delays work and never loses it. Single-process stores have none.
/// The "tasks are ready" signal has no method here: the store sends it in the same commit as the insert or retry
/// that made them ready, so it costs no round trip, is sent only if that commit happened, and is coalesced
/// with the group commit (one signal for many inserts).
/// </summary>
internal interface ITaskNotifier
{
    /// <summary>Tells <paramref name="node"/> that a task it runs has a stop request.</summary>
    ValueTask NotifyStopAsync(long taskId, string node, CancellationToken cancellationToken);

    /// <summary>Delivers other nodes' signals to <paramref name="handler"/> until cancelled, reconnecting as needed.</summary>
    Task ListenAsync(ITaskSignalHandler handler, CancellationToken cancellationToken);
}

/// <summary>What a node does with a signal from another node.</summary>
internal interface ITaskSignalHandler
{
    /// <summary>Tasks may be ready: wake the dispatcher.</summary>
    void OnTasksAvailable();

    /// <summary>A stop was requested for a task this node may run, or that an external worker holds (whose heartbeat this node may be serving).</summary>
    void OnStopRequested(long taskId);

    /// <summary>A task with a stop request no longer runs (stopped, finished, or taken back from a lost node).</summary>
    void OnTaskStopped(long taskId);

    /// <summary>A schedule was created, replaced, paused, resumed or deleted on another node: read the schedules again.</summary>
    void OnSchedulesChanged();
}
