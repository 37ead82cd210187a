namespace TaskSystem.Storage;

/// <summary>
/// Progress that handlers and external workers report. It is written off the hot path: never in a claim's or an
/// outcome's transaction, and at most about once a second per task (the caller coalesces, see
/// <c>Engine/TaskProgressReporter</c>), so a chatty handler cannot load the store.
/// </summary>
internal partial interface ITaskStore
{
    /// <summary>
    /// Records an attempt's progress, replacing the task's previous one, only while the task still runs under the
    /// same holder and claim (the fence of <see cref="TasksCompleteAsync"/>: a late report of an attempt that was
    /// rescued, stopped or finished changes nothing). Returns whether it was applied. Not fsync'd: progress is a view,
    /// and the next durable commit carries it. One indexed row write.
    /// </summary>
    Task<bool> TaskProgressSetAsync(TaskProgressSetParams parameters, CancellationToken cancellationToken);

    /// <summary>
    /// The latest progress of each of the given tasks that has one (from whichever attempt reported last), in no
    /// particular order. One indexed read per id: its cost is bounded by the ids given (a page of a list).
    /// </summary>
    Task<IReadOnlyList<TaskProgressRecord>> TasksProgressGetAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken);

    /// <summary>
    /// The progress of running tasks, reported by their current attempt, up to <see cref="TasksProgressRunningParams.Limit"/>,
    /// lowest id first. Its cost follows the running tasks, never the queue or the history: dashboards read it every tick.
    /// </summary>
    Task<IReadOnlyList<TaskProgressRecord>> TasksProgressRunningAsync(TasksProgressRunningParams parameters, CancellationToken cancellationToken);
}

/// <summary>Parameters of <see cref="ITaskStore.TaskProgressSetAsync"/>.</summary>
/// <param name="Id">The task.</param>
/// <param name="Node">Who runs the attempt: a node's name, or an external worker's holder.</param>
/// <param name="ClaimId">The claim the attempt runs under (the fence).</param>
/// <param name="Percent">How far it is, 0 to 100.</param>
/// <param name="Message">What it is doing, or null.</param>
/// <param name="At">When it was reported.</param>
internal sealed record TaskProgressSetParams(long Id, string Node, long ClaimId, double Percent, string? Message, DateTimeOffset At);

/// <summary>Parameters of <see cref="ITaskStore.TasksProgressRunningAsync"/>.</summary>
/// <param name="Limit">At most this many.</param>
internal sealed record TasksProgressRunningParams(int Limit);

/// <summary>A task's latest progress, as stored.</summary>
/// <param name="Id">The task.</param>
/// <param name="Attempt">The attempt that reported it.</param>
/// <param name="Percent">How far it was, 0 to 100.</param>
/// <param name="Message">What it was doing, or null.</param>
/// <param name="At">When it was reported.</param>
internal sealed record TaskProgressRecord(long Id, int Attempt, double Percent, string? Message, DateTimeOffset At);
