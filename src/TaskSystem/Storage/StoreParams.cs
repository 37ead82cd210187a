namespace TaskSystem.Storage;

/// <summary>A task to insert.</summary>
internal sealed record NewTask(
    string Type,
    string Queue,
    int Priority,
    string PayloadJson,
    int MaxAttempts,
    TimeSpan Timeout,
    DateTimeOffset CreatedAt,
    DateTimeOffset RunAt,
    string? TraceParent = null)
{
    /// <summary>Awaiting when it has parents, scheduled when it must wait for a future time, else queued.</summary>
    public TaskState InitialState => After is { Length: > 0 } ? TaskState.Awaiting : RunAt > CreatedAt ? TaskState.Scheduled : TaskState.Queued;

    /// <summary>
    /// The parents of a continuation (ids of existing tasks, distinct), or null. The insert links them in its own
    /// transaction and settles the task at once if they have already finished (see <see cref="ITaskStore.TasksInsertAsync"/>).
    /// </summary>
    public long[]? After { get; init; }

    /// <summary>The continuation runs once its parents finish, whatever their outcome (<see cref="AfterPolicy.AnyOutcome"/>).</summary>
    public bool AnyOutcome { get; init; }

    /// <summary>
    /// The idempotency key: unique per store among the tasks it keeps. An insert whose key a kept task already holds
    /// adds nothing and returns that task (see <see cref="ITaskStore.TasksInsertAsync"/>).
    /// </summary>
    public string? Key { get; init; }

    /// <summary>The schedule whose tick made this task; with <see cref="ScheduledFor"/>, unique per store.</summary>
    public string? Schedule { get; init; }

    /// <summary>The tick of <see cref="Schedule"/> this task is for.</summary>
    public DateTimeOffset? ScheduledFor { get; init; }
}

/// <summary>Parameters of <see cref="ITaskStore.TasksInsertAsync"/>.</summary>
internal sealed record TasksInsertParams(IReadOnlyList<NewTask> Tasks);

/// <summary>Parameters of <see cref="ITaskStore.TasksListAsync"/>.</summary>
/// <param name="States">Only these states; null or empty for all.</param>
/// <param name="Type">Only this type.</param>
/// <param name="Queue">Only this queue.</param>
/// <param name="BeforeId">Only ids below this one (the cursor).</param>
/// <param name="Limit">At most this many.</param>
internal sealed record TasksListParams(IReadOnlyCollection<TaskState>? States, string? Type, string? Queue, long? BeforeId, int Limit);

/// <summary>Parameters of <see cref="ITaskStore.TasksClaimAsync"/>.</summary>
/// <param name="Node">The claiming node.</param>
/// <param name="ClaimId">A fresh fencing token for this claim.</param>
/// <param name="Limit">The node's free worker slots: never claim more.</param>
/// <param name="Types">Only tasks of these types (the handlers the node has).</param>
/// <param name="Now">The current time: tasks with a later run-at wait.</param>
/// <param name="LeaseExpiresAt">The lease given to the claimed tasks.</param>
internal sealed record TasksClaimParams(string Node, long ClaimId, int Limit, IReadOnlyList<string> Types, DateTimeOffset Now, DateTimeOffset LeaseExpiresAt)
{
    /// <summary>Only tasks in these queues; null for every queue (<c>TaskSystem:Queues</c>).</summary>
    public IReadOnlyList<string>? Queues { get; init; }

    /// <summary>No tasks in these queues (the node claims its limited queues on their own).</summary>
    public IReadOnlyList<string>? ExcludedQueues { get; init; }
}

/// <summary>What an attempt ended in.</summary>
internal enum CompletionKind
{
    /// <summary>The handler returned: succeeded (cancelled, keeping the result, if a stop was requested).</summary>
    Succeeded,

    /// <summary>The attempt failed and attempts remain: scheduled at <see cref="TaskCompletion.RunAt"/> (cancelled if a stop was requested).</summary>
    Retry,

    /// <summary>The attempt failed and none remain: failed (cancelled if a stop was requested).</summary>
    Failed,

    /// <summary>Stopped: cancelled, with the result if the handler returned one after its stop.</summary>
    Cancelled,

    /// <summary>Interrupted by shutdown: back to queued without counting the attempt (cancelled if a stop was requested).</summary>
    Released,

    /// <summary>
    /// Interrupted by its own node, which could not renew the lease (self-fencing): back to queued without counting the
    /// attempt, as <see cref="Released"/>, with the reason in the task's error (cancelled if a stop was requested).
    /// </summary>
    Interrupted,
}

/// <summary>
/// One attempt's outcome, fenced by node and claim. <see cref="StackTrace"/> is the failed attempt's exception as
/// .NET prints it (bounded, see <see cref="TaskAttemptError.MaxStackTraceBytes"/>), kept in the errors history beside the message.
/// </summary>
internal sealed record TaskCompletion(
    long Id,
    string Node,
    long ClaimId,
    CompletionKind Kind,
    DateTimeOffset At,
    string? ResultJson = null,
    string? Error = null,
    DateTimeOffset? RunAt = null,
    string? StackTrace = null);

/// <summary>Parameters of <see cref="ITaskStore.TasksCompleteAsync"/>.</summary>
internal sealed record TasksCompleteParams(IReadOnlyList<TaskCompletion> Completions)
{
    /// <summary>
    /// The caller answers someone outside the process once the outcomes are written (an external worker): they must
    /// be durable (fsync'd) first, as an accepted task is. The engine's own outcomes need not be.
    /// </summary>
    public bool Durable { get; init; }
}

/// <summary>Parameters of <see cref="ITaskStore.TaskCancelAsync"/>.</summary>
internal sealed record TaskCancelParams(long Id, DateTimeOffset Now);

/// <summary>What <see cref="ITaskStore.TaskCancelAsync"/> did.</summary>
internal enum TaskCancelOutcome
{
    /// <summary>It was queued or scheduled and is now cancelled.</summary>
    Cancelled,

    /// <summary>It runs; its stop-requested flag is now set.</summary>
    StopRequested,

    /// <summary>It was already cancelled.</summary>
    AlreadyCancelled,

    /// <summary>It had succeeded or failed.</summary>
    AlreadyFinished,

    /// <summary>No such task.</summary>
    NotFound,
}

/// <summary>The result of <see cref="ITaskStore.TaskCancelAsync"/>: the outcome and the row after it.</summary>
internal sealed record TaskCancelResult(TaskCancelOutcome Outcome, TaskRecord? Task);

/// <summary>Parameters of <see cref="ITaskStore.TaskRetryAsync"/>.</summary>
internal sealed record TaskRetryParams(long Id, DateTimeOffset Now);

/// <summary>The result of <see cref="ITaskStore.TaskRetryAsync"/>: the outcome and the row after it.</summary>
internal sealed record TaskRetryResult(RetryOutcome Outcome, TaskRecord? Task);

/// <summary>Parameters of <see cref="ITaskStore.TasksRescueAsync"/>.</summary>
/// <param name="Now">Leases that ended before this are expired.</param>
/// <param name="Rescuer">The node doing the rescue: its own tasks are taken by lease expiry only when it says which it holds.</param>
/// <param name="Limit">At most this many per call.</param>
internal sealed record TasksRescueParams(DateTimeOffset Now, string Rescuer, int Limit)
{
    /// <summary>
    /// The attempts the rescuer runs (task ids). When given, its own other tasks whose lease ran out are rescued too:
    /// they are attempts whose outcome was written without waiting for the disk and lost in a database crash, which
    /// no heartbeat renews any more. Null: the rescuer's own tasks are never taken by lease expiry.
    /// </summary>
    public IReadOnlyCollection<long>? Held { get; init; }

    /// <summary>Take every running task whatever its lease: recovery at start of a single-process store.</summary>
    public bool AllRunning { get; init; }

    /// <summary>Take every running task of this node whatever its lease: recovery at start after a crash.</summary>
    public string? AllOfNode { get; init; }
}

/// <summary>A task taken back from a lost node, and where it went.</summary>
internal sealed record RescuedTask(long Id, string? FromNode, TaskState NewState);

/// <summary>Parameters of <see cref="ITaskStore.TasksStopRequestedAsync"/>.</summary>
internal sealed record TasksStopRequestedParams(string Node);

/// <summary>Parameters of <see cref="ITaskStore.NodeHeartbeatAsync"/>.</summary>
internal sealed record NodeHeartbeatParams(string Node, DateTimeOffset Now, DateTimeOffset LeaseExpiresAt, DateTimeOffset StartedAt, int Concurrency, int Busy)
{
    /// <summary>
    /// The attempts the node holds in memory: only these leases are extended. A row left running under the node's
    /// name by a claim it never started or an outcome it lost is not renewed, so it expires and is rescued.
    /// </summary>
    public IReadOnlyList<HeldClaim> Held { get; init; } = [];
}

/// <summary>An attempt a node holds: the task and the claim that fences it.</summary>
internal sealed record HeldClaim(long Id, long ClaimId);

/// <summary>A count of tasks in one queue and state.</summary>
internal sealed record QueueStateCount(string Queue, TaskState State, long Count);

/// <summary>Parameters of <see cref="ITaskStore.TasksFinishedHistogramAsync"/>.</summary>
/// <param name="Since">Only the minutes that start at or after this time.</param>
/// <param name="Bucket">
/// The width of a bucket, a whole number of minutes (the counters keep minutes); buckets start at multiples of it
/// since the Unix epoch.
/// </param>
internal sealed record TasksFinishedHistogramParams(DateTimeOffset Since, TimeSpan Bucket)
{
    /// <summary>How far back the counters behind the histogram go: the last 120 minutes.</summary>
    public const int MinutesKept = 120;

    private const long MsPerMinute = 60_000;

    /// <summary>The width of a bucket.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a whole number of minutes.</exception>
    public TimeSpan Bucket { get; init; } = Bucket >= TimeSpan.FromMinutes(1) && Bucket.Ticks % TimeSpan.TicksPerMinute == 0
        ? Bucket
        : throw new ArgumentOutOfRangeException(nameof(Bucket), Bucket, "A throughput bucket is a whole number of minutes.");

    /// <summary>The first minute (since the Unix epoch) that counts: the first one starting at or after <see cref="Since"/>.</summary>
    internal long SinceMinute => (long)Math.Ceiling(Since.ToUnixTimeMilliseconds() / (double)MsPerMinute);

    /// <summary>Sums the kept minutes into buckets, in time then state order.</summary>
    internal IReadOnlyList<FinishedBucket> Fold(IEnumerable<(long Minute, TaskState State, long Count)> minutes)
    {
        var width = Bucket.Ticks / TimeSpan.TicksPerMinute;
        return [.. minutes
            .Where(m => m.Minute >= SinceMinute && m.Count != 0)
            .GroupBy(m => (Start: m.Minute / width * width, m.State))
            .Select(g => new FinishedBucket(DateTimeOffset.FromUnixTimeMilliseconds(g.Key.Start * MsPerMinute), g.Key.State, g.Sum(m => m.Count)))
            .Where(b => b.Count != 0)
            .OrderBy(b => b.Start)
            .ThenBy(b => b.State)];
    }
}

/// <summary>How many tasks reached a final state in one bucket of time.</summary>
internal sealed record FinishedBucket(DateTimeOffset Start, TaskState State, long Count);

/// <summary>Parameters of <see cref="ITaskStore.TasksDeleteFinishedAsync"/>.</summary>
/// <param name="FinishedBefore">Delete tasks that finished before this time.</param>
/// <param name="Limit">At most this many in one call.</param>
internal sealed record TasksDeleteFinishedParams(DateTimeOffset FinishedBefore, int Limit);

/// <summary>Parameters of <see cref="ITaskStore.NodeStartAsync"/>.</summary>
/// <param name="Node">The starting node's name.</param>
/// <param name="Now">The current time: the node's first heartbeat.</param>
/// <param name="StaleBefore">A heartbeat before this is from a node that is gone, so its name is free.</param>
/// <param name="Concurrency">The node's worker count.</param>
internal sealed record NodeStartParams(string Node, DateTimeOffset Now, DateTimeOffset StaleBefore, int Concurrency);
