namespace TaskSystem.Storage;

/// <summary>Parameters of <see cref="ITaskStore.TasksClaimExternalAsync"/>.</summary>
/// <param name="Holder">The claiming worker as the store records it (<c>worker:</c> and its name).</param>
/// <param name="ClaimId">A fresh fencing token: the lease token the worker shows with every later call.</param>
/// <param name="Limit">At most this many tasks.</param>
/// <param name="Types">Only tasks of these types.</param>
/// <param name="Queues">Only tasks in these queues; null or empty for every queue.</param>
/// <param name="Now">The current time: tasks with a later run-at wait.</param>
/// <param name="LeaseExpiresAt">The lease asked for; a task's lease never runs past its attempt's timeout.</param>
internal sealed record TasksClaimExternalParams(
    string Holder, long ClaimId, int Limit, IReadOnlyList<string> Types, IReadOnlyList<string>? Queues, DateTimeOffset Now, DateTimeOffset LeaseExpiresAt);

/// <summary>Parameters of <see cref="ITaskStore.TaskLeaseExtendAsync"/>.</summary>
/// <param name="Id">The task.</param>
/// <param name="Holder">The worker that claimed it (<c>worker:</c> and its name).</param>
/// <param name="ClaimId">The claim the worker holds it under (its lease token).</param>
/// <param name="LeaseExpiresAt">The new end of the lease asked for; never past the attempt's timeout.</param>
internal sealed record TaskLeaseExtendParams(long Id, string Holder, long ClaimId, DateTimeOffset LeaseExpiresAt);

/// <summary>A lease that <see cref="ITaskStore.TaskLeaseExtendAsync"/> extended.</summary>
/// <param name="ExpiresAt">When it now ends.</param>
/// <param name="StopRequested">A stop was requested: the worker should stop and report.</param>
internal sealed record TaskLease(DateTimeOffset ExpiresAt, bool StopRequested);

/// <summary>Parameters of <see cref="ITaskStore.TasksRescueExternalAsync"/>.</summary>
/// <param name="Now">Leases that ended before this are expired.</param>
/// <param name="Limit">At most this many per call.</param>
internal sealed record TasksRescueExternalParams(DateTimeOffset Now, int Limit);
