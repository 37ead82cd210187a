using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using TaskSystem.Configuration;
using TaskSystem.Engine;
using TaskSystem.ExternalWorkers;
using TaskSystem.Handlers;
using TaskSystem.Storage;

namespace TaskSystem;

/// <summary>
/// The public face of TaskSystem: enqueue, get, list, wait for, stop and retry tasks, and the figures the dashboard
/// shows. The HTTP API calls it, and so does an application that embeds the library (through <see cref="ITaskManager"/>
/// where it wants to test without a database). Every call goes to the store, the single source of truth; checking
/// requests (<see cref="TaskRequestValidator"/>) and the stop protocol (<see cref="TaskStopper"/>) live beside it.
/// It returns public records, never the store's rows.
/// </summary>
public sealed class TaskManager : ITaskManager
{
    private readonly ITaskStore _store;
    private readonly HandlerRegistry _handlers;
    private readonly TaskEnqueuer _enqueuer;
    private readonly TaskStopper _stopper;
    private readonly RunningTasks _running;
    private readonly TaskWaiters _waiters;
    private readonly PayloadJson _json;
    private readonly TimeProvider _time;
    private readonly TimeSpan _pollInterval;

    private readonly ExternalTypes _externalTypes;

    internal TaskManager(
        ITaskStore store,
        HandlerRegistry handlers,
        TaskEnqueuer enqueuer,
        TaskStopper stopper,
        RunningTasks running,
        TaskWaiters waiters,
        PayloadJson json,
        TimeProvider time,
        TaskSystemOptions options,
        ExternalTypes externalTypes)
    {
        _store = store;
        _handlers = handlers;
        _enqueuer = enqueuer;
        _stopper = stopper;
        _running = running;
        _waiters = waiters;
        _json = json;
        _time = time;
        _pollInterval = options.PollInterval;
        NodeName = options.NodeName;
        _externalTypes = externalTypes;
    }

    /// <summary>The task types this node has handlers for (and so runs), sorted.</summary>
    public IReadOnlyList<string> HandlerTypes => _handlers.Types;

    /// <summary>The task types external workers run, as declared in <see cref="TaskSystemOptions.ExternalTypes"/> (<c>*</c> for any), sorted.</summary>
    public IReadOnlyList<string> ExternalTypes => _externalTypes.Declared;
    /// <summary>Every task type this process accepts at enqueue, sorted: those with a handler here and those declared with <c>AddTaskType</c>.</summary>
    public IReadOnlyList<string> TaskTypes => _handlers.AcceptedTypes;

    /// <summary>The name of this node.</summary>
    public string NodeName { get; }

    /// <inheritdoc />
    public async Task<TaskInfo> EnqueueAsync(TaskRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var tasks = await _enqueuer.EnqueueAsync([request], cancellationToken).ConfigureAwait(false);
        return tasks[0];
    }

    /// <inheritdoc />
    public Task<TaskInfo> EnqueueAsync<TPayload>(string type, TPayload payload, CancellationToken cancellationToken = default) =>
        EnqueueAsync(new TaskRequest(type) { Payload = JsonSerializer.SerializeToElement(payload, _json.TypeInfo<TPayload>()) }, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<TaskInfo>> EnqueueManyAsync(IEnumerable<TaskRequest> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        return _enqueuer.EnqueueAsync([.. requests], cancellationToken);
    }

    /// <inheritdoc />
    public async Task<TaskInfo> EnqueueAsync(TaskRequest request, DbTransaction transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var tasks = await _enqueuer.EnqueueInTransactionAsync([request], transaction, cancellationToken).ConfigureAwait(false);
        return tasks[0];
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<TaskInfo>> EnqueueManyAsync(IEnumerable<TaskRequest> requests, DbTransaction transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        return _enqueuer.EnqueueInTransactionAsync([.. requests], transaction, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<TaskInfo?> GetAsync(long id, CancellationToken cancellationToken = default)
    {
        var record = await _store.TaskGetAsync(id, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return null;
        }

        var progress = record.Attempt > 0 ? await _store.TasksProgressGetAsync([id], cancellationToken).ConfigureAwait(false) : [];
        var parents = await _store.TaskParentsListAsync(id, cancellationToken).ConfigureAwait(false);
        return TaskInfo.From(record) with
        {
            Progress = progress.Count > 0 ? TaskInfo.ProgressOf(progress[0]) : null,
            After = parents.Count > 0 ? [.. parents.Select(p => p.Id)] : null,
        };
    }

    /// <inheritdoc />
    public async Task<TaskPage> ListAsync(TaskListQuery query, CancellationToken cancellationToken = default)
    {
        var parameters = TaskRequestValidator.ListParams(query);
        var records = await _store.TasksListAsync(parameters, cancellationToken).ConfigureAwait(false);
        var hasMore = records.Count > query.Limit;
        var page = records.Take(query.Limit).Select(record => TaskInfo.From(record)).ToList();

        // Lists show the progress of running tasks only: one read bounded by the page, none for a page of finished ones.
        var running = page.Where(task => task.State == TaskState.Running).Select(task => task.Id).ToList();
        if (running.Count > 0)
        {
            var progress = (await _store.TasksProgressGetAsync(running, cancellationToken).ConfigureAwait(false)).ToDictionary(p => p.Id);
            for (var i = 0; i < page.Count; i++)
            {
                if (progress.TryGetValue(page[i].Id, out var found))
                {
                    page[i] = page[i] with { Progress = TaskInfo.ProgressOf(found) };
                }
            }
        }

        var next = hasMore ? page[^1].Id.ToString(CultureInfo.InvariantCulture) : null;
        return new TaskPage(page, next);
    }

    /// <inheritdoc />
    public async Task<TaskInfo?> WaitAsync(long id, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            // Listen before reading: an outcome written between the read and the wait still ends the wait.
            var finished = _waiters.Register(id);
            try
            {
                var task = await GetAsync(id, cancellationToken).ConfigureAwait(false);
                if (task is null || task.State.IsFinal())
                {
                    return task;
                }

                using var poll = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                await Task.WhenAny(finished.Task, Task.Delay(_pollInterval, _time, poll.Token)).ConfigureAwait(false);
                await poll.CancelAsync().ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
            finally
            {
                _waiters.Release(id, finished);
            }
        }
    }

    /// <summary>How many tasks are in each state.</summary>
    public Task<IReadOnlyDictionary<TaskState, long>> CountByStateAsync(CancellationToken cancellationToken = default) =>
        _store.TasksCountByStateAsync(cancellationToken);

    /// <summary>How many tasks each queue has in each state (non-zero counts only).</summary>
    public async Task<IReadOnlyList<QueueCount>> CountByQueueAsync(CancellationToken cancellationToken = default) =>
        [.. (await _store.TasksCountByQueueAsync(cancellationToken).ConfigureAwait(false)).Select(c => new QueueCount(c.Queue, c.State, c.Count))];

    /// <summary>How many tasks finished in each state per <paramref name="bucket"/> since <paramref name="since"/>.</summary>
    public async Task<IReadOnlyList<FinishedCount>> FinishedHistogramAsync(DateTimeOffset since, TimeSpan bucket, CancellationToken cancellationToken = default) =>
        [.. (await _store.TasksFinishedHistogramAsync(new TasksFinishedHistogramParams(since, bucket), cancellationToken).ConfigureAwait(false))
            .Select(b => new FinishedCount(b.Start, b.State, b.Count))];

    /// <inheritdoc />
    public async Task<StopResult> StopAsync(long id, CancellationToken cancellationToken = default)
    {
        var result = await _stopper.StopAsync(id, cancellationToken).ConfigureAwait(false);
        if (result.Outcome == StopOutcome.Cancelled)
        {
            _waiters.Signal(id);
        }

        return result;
    }

    /// <inheritdoc />
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
    public async Task<IReadOnlyList<NodeInfo>> NodesAsync(CancellationToken cancellationToken = default) =>
        [.. (await _store.NodesListAsync(cancellationToken).ConfigureAwait(false)).Select(n => new NodeInfo(n.Name, n.StartedAt, n.HeartbeatAt, n.Concurrency, n.Busy))];
}
