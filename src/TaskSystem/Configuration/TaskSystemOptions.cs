namespace TaskSystem;

/// <summary>
/// Settings of a TaskSystem node, bound from the <c>TaskSystem</c> configuration section
/// (appsettings.json, <c>TaskSystem__X</c> environment variables, <c>--TaskSystem:X</c> arguments) and validated at start.
/// Durations use the <c>hh:mm:ss</c> format.
/// </summary>
public sealed class TaskSystemOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "TaskSystem";

    /// <summary>
    /// The store: <c>sqlite</c> (embedded) or <c>postgres</c> (several nodes on one queue). Default: <c>postgres</c>
    /// when the app called <c>UsePostgreSql()</c>, else <c>sqlite</c>; a value set here always wins.
    /// </summary>
    public string? Provider { get; set; }

    /// <summary>
    /// The store's connection string. Default for SQLite: <c>Data Source=data/tasks.db</c>. A relative SQLite path
    /// is resolved against the host's content root (<c>IHostEnvironment.ContentRootPath</c>), never the working
    /// directory, so a service started from elsewhere (a Windows service runs in System32) finds its database.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// Workers on this node: how many tasks run at once. Default 5. 0 runs no handlers at all (a node that only
    /// enqueues, such as a web front end).
    /// </summary>
    public int Concurrency { get; set; } = 5;

    /// <summary>
    /// Whether the node may claim a few tasks ahead of its free workers when its tasks are short, so that a worker
    /// that finishes starts its next task at once instead of waiting for a claim's round trip. The set is sized to
    /// what the workers finish during one claim (none for long tasks), at most four tasks per worker, and a task no
    /// worker took within 100 ms goes back to the queue. Not with per-queue limits (<see cref="Queues"/>). Default true.
    /// </summary>
    public bool ClaimAhead { get; set; } = true;

    /// <summary>This node's name, shown on the tasks it runs. Must be unique among live nodes. Default: the host name.</summary>
    public string NodeName { get; set; } = Environment.MachineName;

    /// <summary>The queue of tasks enqueued without one. Default <c>default</c>.</summary>
    public string DefaultQueue { get; set; } = "default";

    /// <summary>Attempts a task has unless it says otherwise. Default 3.</summary>
    public int DefaultMaxAttempts { get; set; } = 3;

    /// <summary>How long one attempt may run unless the task says otherwise. Default 30 minutes.</summary>
    public TimeSpan DefaultTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>The first retry's delay; each later one doubles it, with ±50% jitter. Default 1 second.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest retry delay. Default 10 minutes.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a stopped (or timed-out) handler may ignore its cancellation before it is abandoned. Default 5 seconds.</summary>
    public TimeSpan StopGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>At shutdown, how long running tasks may finish before they are cancelled and put back in the queue. Default 10 seconds.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The safety-net poll of the queue when no wake-up signal arrives. Default 1 second.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The safety-net poll for stop requests of tasks running here. Default 1 second.</summary>
    public TimeSpan StopPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a node owns a running task without a heartbeat; after it, other nodes take the task back. Default 30 seconds.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a node renews the leases of its running tasks. Default 10 seconds (must be under a half of the lease).</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often a node looks for expired leases of other nodes (multi-node stores only). Default 5 seconds.</summary>
    public TimeSpan RescueInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// PostgreSQL: the most pooled connections this node opens to the database, for requests, claims and writes
    /// (the LISTEN connection comes on top). Overrides <c>Maximum Pool Size</c> in the connection string. Default 20.
    /// </summary>
    public int MaxPoolSize { get; set; } = 20;

    /// <summary>The largest payload, in bytes of UTF-8 JSON. Default 1 MiB.</summary>
    public int MaxPayloadBytes { get; set; } = 1024 * 1024;

    /// <summary>The deepest JSON nesting accepted in a request. Default 64.</summary>
    public int MaxJsonDepth { get; set; } = 64;

    /// <summary>How long finished tasks (succeeded, failed, cancelled) are kept before retention deletes them. Default 7 days.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often retention looks for finished tasks past <see cref="Retention"/>. Default 1 minute.</summary>
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Finished tasks deleted per store call: small batches keep each write short, so claims and enqueues never wait long. Default 500.</summary>
    public int RetentionBatchSize { get; set; } = 500;

    /// <summary>
    /// The most waiting tasks (queued and scheduled) the queue may hold; past it, an enqueue is refused with
    /// <see cref="TaskQueueFullException"/> (HTTP 503) instead of growing the queue without bound. Default 0: no cap.
    /// </summary>
    public int MaxQueued { get; set; }

    /// <summary>How often the node counts unfinished tasks per queue and state, for the queue-depth gauge and <see cref="MaxQueued"/>. Default 2 seconds.</summary>
    public TimeSpan CountsRefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Task types that no handler on this node runs but that external workers claim over HTTP (see docs/workers.md):
    /// tasks of these types are accepted at enqueue, and only external workers claim them. <c>*</c> accepts any type
    /// that no handler runs. Default: none, so a task of an unknown type is refused.
    /// </summary>
    public string[] ExternalTypes { get; set; } = [];

    /// <summary>The SQLite connection string used when none is configured.</summary>
    public const string DefaultSqliteConnectionString = "Data Source=data/tasks.db";

    /// <summary>
    /// Multi-node stores: how long a running attempt may go without a confirmed lease renewal before its own node
    /// cancels it (self-fencing), so that a node cut off from the database has stopped its handlers before the lease
    /// runs out and another node may run the task. The attempt goes back to the queue without being counted.
    /// More than <see cref="HeartbeatInterval"/> and less than <see cref="LeaseDuration"/>; handlers must honour
    /// their cancellation within the difference to <see cref="LeaseDuration"/>.
    /// Default (null): two thirds of <see cref="LeaseDuration"/>, 20 seconds with the default lease.
    /// </summary>
    public TimeSpan? SelfFenceAfter { get; set; }

    /// <summary>
    /// The queues this node serves, by name, each with an optional limit of its own (<c>TaskSystem:Queues:emails:Concurrency</c>)
    /// on top of <see cref="Concurrency"/>. Default: none named, so the node serves every queue. Once a queue is named
    /// to be served, the node serves only the named ones; name <c>*</c> (<c>Serve = true</c>) to serve every other queue
    /// too (<c>*</c> takes no limit), or name a queue with <c>Serve = false</c> to leave it to other nodes.
    /// </summary>
    public Dictionary<string, TaskQueueOptions> Queues { get; set; } = new(StringComparer.Ordinal);

    /// <summary><see cref="SelfFenceAfter"/>, or its default when it is not set.</summary>
    internal TimeSpan SelfFenceAfterOrDefault => SelfFenceAfter ?? LeaseDuration * 2 / 3;

    /// <summary>The most tasks one batch enqueue (<c>POST /tasks/batch</c>) may hold: all are stored in one commit. Default 1,000.</summary>
    public int MaxBatchSize { get; set; } = 1000;

    /// <summary>
    /// Recurring schedules this node declares, by name (<c>TaskSystem:Schedules:{name}:...</c>): written to the store at
    /// start, replacing the definition of a schedule of the same name (see docs/schedules.md). Default none.
    /// </summary>
    public IDictionary<string, ScheduleOptions> Schedules { get; } = new Dictionary<string, ScheduleOptions>(StringComparer.Ordinal);

    /// <summary>The most parents one continuation may name (<see cref="TaskRequest.After"/>). Default 100, at most 10,000.</summary>
    public int MaxParents { get; set; } = 100;
}

/// <summary>One queue's settings on a node (<c>TaskSystem:Queues:{name}</c>).</summary>
public sealed class TaskQueueOptions
{
    /// <summary>
    /// At most this many tasks of the queue run at once on this node (within <see cref="TaskSystemOptions.Concurrency"/>).
    /// Default (null): no limit of its own.
    /// </summary>
    public int? Concurrency { get; set; }

    /// <summary>
    /// Whether this node runs the queue's tasks. Default true. False leaves the queue to other nodes; naming only queues
    /// with <c>Serve = false</c> serves every other queue. For <c>*</c>: serve every queue not named.
    /// </summary>
    public bool Serve { get; set; } = true;
}
