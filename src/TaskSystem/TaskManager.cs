using System.Globalization;
using System.Text.Json;
using TaskSystem.Configuration;
using TaskSystem.Engine;
using TaskSystem.ExternalWorkers;
using TaskSystem.Handlers;
using TaskSystem.Storage;

namespace TaskSystem;

/// <summary>
/// The public face of TaskSystem, as in the seed: enqueue, get, list, stop and retry tasks. The HTTP API calls it,
/// and so does an application that embeds the library. Every call goes to the store, the single source of truth;
/// checking requests (<see cref="TaskRequestValidator"/>) and the stop protocol (<see cref="TaskStopper"/>) live
/// beside it.
/// </summary>
public sealed class TaskManager
{
    private readonly ITaskStore _store;
    private readonly HandlerRegistry _handlers;
    private readonly TaskEnqueuer _enqueuer;
    private readonly TaskStopper _stopper;
    private readonly RunningTasks _running;
    private readonly TimeProvider _time;

    private readonly ExternalTypes _externalTypes;

    internal TaskManager(
        ITaskStore store,
        HandlerRegistry handlers,
        TaskEnqueuer enqueuer,
        TaskStopper stopper,
        RunningTasks running,
        TimeProvider time,
        string nodeName,
        ExternalTypes externalTypes)
    {
        _store = store;
        _handlers = handlers;
        _enqueuer = enqueuer;
        _stopper = stopper;
        _running = running;
        _time = time;
        NodeName = nodeName;
        _externalTypes = externalTypes;
    }

    /// <summary>The task types this node has handlers for, sorted.</summary>
    public IReadOnlyList<string> HandlerTypes => _handlers.Types;

    /// <summary>The task types external workers run, as declared in <see cref="TaskSystemOptions.ExternalTypes"/> (<c>*</c> for any), sorted.</summary>
    public IReadOnlyList<string> ExternalTypes => _externalTypes.Declared;

    /// <summary>The name of this node.</summary>
    public string NodeName { get; }

    /// <summary>Adds a task to the queue. Returns once it is committed to the store.</summary>
    /// <exception cref="TaskValidationException">The request is invalid; the message says why.</exception>
    /// <exception cref="TaskQueueFullException">The queue holds <see cref="TaskSystemOptions.MaxQueued"/> tasks already.</exception>
    public async Task<TaskInfo> EnqueueAsync(TaskRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var tasks = await _enqueuer.EnqueueAsync([request], cancellationToken).ConfigureAwait(false);
        return tasks[0];
    }

    /// <summary>Adds a task whose payload is <paramref name="payload"/> serialized with web defaults (camelCase).</summary>
    public Task<TaskInfo> EnqueueAsync<TPayload>(string type, TPayload payload, CancellationToken cancellationToken = default) =>
        EnqueueAsync(new TaskRequest(type) { Payload = JsonSerializer.SerializeToElement(payload, JsonSerializerOptions.Web) }, cancellationToken);

    /// <summary>Adds many tasks in one commit: all of them, or none when one is invalid.</summary>
    public Task<IReadOnlyList<TaskInfo>> EnqueueManyAsync(IEnumerable<TaskRequest> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        return _enqueuer.EnqueueAsync([.. requests], cancellationToken);
    }

    /// <summary>One task, or null when no task has that id.</summary>
    public async Task<TaskInfo?> GetAsync(long id, CancellationToken cancellationToken = default)
    {
        var record = await _store.TaskGetAsync(id, cancellationToken).ConfigureAwait(false);
        return record is null ? null : TaskInfo.From(record);
    }

    /// <summary>A page of tasks, newest first.</summary>
    /// <exception cref="TaskValidationException">The limit or cursor is invalid.</exception>
    public async Task<TaskPage> ListAsync(TaskListQuery query, CancellationToken cancellationToken = default)
    {
        var parameters = TaskRequestValidator.ListParams(query);
        var records = await _store.TasksListAsync(parameters, cancellationToken).ConfigureAwait(false);
        var hasMore = records.Count > query.Limit;
        var page = records.Take(query.Limit).Select(record => TaskInfo.From(record)).ToList();
        var next = hasMore ? page[^1].Id.ToString(CultureInfo.InvariantCulture) : null;
        return new TaskPage(page, next);
    }

    /// <summary>How many tasks are in each state.</summary>
    public Task<IReadOnlyDictionary<TaskState, long>> CountByStateAsync(CancellationToken cancellationToken = default) =>
        _store.TasksCountByStateAsync(cancellationToken);

    /// <summary>How many tasks each queue has in each state (non-zero counts only).</summary>
    public Task<IReadOnlyList<QueueStateCount>> CountByQueueAsync(CancellationToken cancellationToken = default) =>
        _store.TasksCountByQueueAsync(cancellationToken);

    /// <summary>How many tasks finished in each state per <paramref name="bucket"/> since <paramref name="since"/>.</summary>
    public Task<IReadOnlyList<FinishedBucket>> FinishedHistogramAsync(DateTimeOffset since, TimeSpan bucket, CancellationToken cancellationToken = default) =>
        _store.TasksFinishedHistogramAsync(new TasksFinishedHistogramParams(since, bucket), cancellationToken);

    /// <summary>
    /// Stops a task. A queued or scheduled task is cancelled at once and never starts. A running task's token is
    /// cancelled at once; this returns when it no longer runs (at most the stop grace period, after which a handler
    /// that ignores cancellation is abandoned), so the task then shows cancelled.
    /// </summary>
    public Task<StopResult> StopAsync(long id, CancellationToken cancellationToken = default) => _stopper.StopAsync(id, cancellationToken);

    /// <summary>Puts a failed or cancelled task back in the queue with a fresh set of attempts.</summary>
    public async Task<RetryResult> RetryAsync(long id, CancellationToken cancellationToken = default)
    {
        if (_running.HasAbandonedHandler(id))
        {
            // Its last handler ignored a stop and still runs here: a new attempt now would run beside it.
            return new RetryResult(RetryOutcome.PreviousAttemptRunning, await GetAsync(id, cancellationToken).ConfigureAwait(false));
        }

        var result = await _store.TaskRetryAsync(new TaskRetryParams(id, _time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        if (result.Outcome == RetryOutcome.Queued)
        {
            _enqueuer.Wake(null, result.Task!.Type);
        }

        return new RetryResult(result.Outcome, result.Task is null ? null : TaskInfo.From(result.Task));
    }

    /// <summary>The nodes that sent a heartbeat, most recent first.</summary>
    public Task<IReadOnlyList<NodeRecord>> NodesAsync(CancellationToken cancellationToken = default) =>
        _store.NodesListAsync(cancellationToken);
}
