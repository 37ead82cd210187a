using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TaskSystem.Configuration;
using TaskSystem.Diagnostics;
using TaskSystem.Engine;
using TaskSystem.ExternalWorkers;
using TaskSystem.Handlers;
using TaskSystem.Storage;

namespace TaskSystem;

/// <summary>
/// The public face of TaskSystem, as in the seed: enqueue, get, list, stop and retry tasks. The HTTP API calls it,
/// and so does an application that embeds the library. Every call goes to the store, the single source of truth.
/// </summary>
public sealed class TaskManager
{
    private static readonly TimeSpan StopPollInterval = TimeSpan.FromMilliseconds(25);

    /// <summary>The poll behind the "stopped" signal of another node: it matters only when that signal is lost.</summary>
    private static readonly TimeSpan RemoteStopPollInterval = TimeSpan.FromMilliseconds(250);
    private readonly ITaskStore _store;
    private readonly HandlerRegistry _handlers;
    private readonly IServiceScopeFactory _scopes;
    private readonly TaskSystemOptions _options;
    private readonly RunningTasks _running;
    private readonly WakeSignal _wake;
    private readonly ITaskNotifier? _notifier;
    private readonly TimeProvider _time;
    private readonly QueueCounts _counts;
    private readonly TaskMetrics _metrics;
    private readonly StopWaiters _stopWaiters;
    private readonly ExternalTypes? _externalTypes;
    private readonly WorkerSignals? _workerSignals;

    internal TaskManager(
        ITaskStore store,
        HandlerRegistry handlers,
        IServiceScopeFactory scopes,
        IOptions<TaskSystemOptions> options,
        RunningTasks running,
        WakeSignal wake,
        TimeProvider time,
        QueueCounts counts,
        TaskMetrics metrics,
        ITaskNotifier? notifier = null,
        StopWaiters? stopWaiters = null,
        ExternalTypes? externalTypes = null,
        WorkerSignals? workerSignals = null)
    {
        _counts = counts;
        _metrics = metrics;
        _store = store;
        _handlers = handlers;
        _scopes = scopes;
        _options = options.Value;
        _running = running;
        _wake = wake;
        _time = time;
        _notifier = notifier;
        _stopWaiters = stopWaiters ?? new StopWaiters();
        _externalTypes = externalTypes;
        _workerSignals = workerSignals;
    }

    /// <summary>The task types this node has handlers for, sorted.</summary>
    public IReadOnlyList<string> HandlerTypes => _handlers.Types;

    /// <summary>The task types external workers run, as declared in <see cref="TaskSystemOptions.ExternalTypes"/> (<c>*</c> for any), sorted.</summary>
    public IReadOnlyList<string> ExternalTypes => _externalTypes?.Declared ?? [];

    /// <summary>The name of this node.</summary>
    public string NodeName => _options.NodeName;

    /// <summary>Adds a task to the queue. Returns once it is committed to the store.</summary>
    /// <exception cref="TaskValidationException">The request is invalid; the message says why.</exception>
    /// <exception cref="TaskQueueFullException">The queue holds <see cref="TaskSystemOptions.MaxQueued"/> tasks already.</exception>
    public async Task<TaskInfo> EnqueueAsync(TaskRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var activity = TaskTracing.StartEnqueue(request.Type);
        var (task, payload) = Prepare(request, _time.GetUtcNow());
        var inserted = await InsertAsync([task], activity, cancellationToken).ConfigureAwait(false);
        WakeDispatcher(task.RunAt, ForWorkers(task.Type));
        return ToInfo(inserted[0], payload);
    }

    /// <summary>Adds a task whose payload is <paramref name="payload"/> serialized with web defaults (camelCase).</summary>
    public Task<TaskInfo> EnqueueAsync<TPayload>(string type, TPayload payload, CancellationToken cancellationToken = default) =>
        EnqueueAsync(new TaskRequest(type) { Payload = JsonSerializer.SerializeToElement(payload, JsonSerializerOptions.Web) }, cancellationToken);

    /// <summary>Adds many tasks in one commit: all of them, or none when one is invalid.</summary>
    public async Task<IReadOnlyList<TaskInfo>> EnqueueManyAsync(IEnumerable<TaskRequest> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        using var activity = TaskTracing.StartEnqueue(null);
        var now = _time.GetUtcNow();
        var prepared = requests.Select(request => Prepare(request, now)).ToList();
        if (prepared.Count == 0)
        {
            return [];
        }

        var inserted = await InsertAsync([.. prepared.Select(p => p.Task)], activity, cancellationToken).ConfigureAwait(false);
        WakeDispatcher(prepared.Min(p => p.Task.RunAt), prepared.Exists(p => ForWorkers(p.Task.Type)));
        return [.. inserted.Select((record, i) => ToInfo(record, prepared[i].Payload))];
    }

    /// <summary>Stores new tasks if the queue has room for them (<see cref="TaskSystemOptions.MaxQueued"/>), and counts them.</summary>
    private async Task<IReadOnlyList<TaskRecord>> InsertAsync(NewTask[] tasks, Activity? activity, CancellationToken cancellationToken)
    {
        if (!_counts.TryReserve(tasks.Length))
        {
            _metrics.Rejected(tasks);
            var retryAfter = _options.CountsRefreshInterval;
            throw new TaskQueueFullException(
                $"The queue is full: about {_counts.Waiting} tasks wait and TaskSystem:MaxQueued is {_options.MaxQueued}. Try again in {retryAfter.TotalSeconds:0.#} s.",
                retryAfter);
        }

        IReadOnlyList<TaskRecord> inserted;
        try
        {
            inserted = await _store.TasksInsertAsync(new TasksInsertParams(tasks), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _counts.Unreserve(tasks.Length);
            throw;
        }

        _counts.Commit(tasks.Length);
        _metrics.Enqueued(tasks);
        TaskTracing.Enqueued(activity, inserted);
        return inserted;
    }

    /// <summary>One task, or null when no task has that id.</summary>
    public async Task<TaskInfo?> GetAsync(long id, CancellationToken cancellationToken = default)
    {
        var record = await _store.TaskGetAsync(id, cancellationToken).ConfigureAwait(false);
        return record is null ? null : ToInfo(record);
    }

    /// <summary>A page of tasks, newest first.</summary>
    /// <exception cref="TaskValidationException">The limit or cursor is invalid.</exception>
    public async Task<TaskPage> ListAsync(TaskListQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > TaskListQuery.MaxLimit)
        {
            throw new TaskValidationException("limit", $"limit must be between 1 and {TaskListQuery.MaxLimit} (got {query.Limit}).");
        }

        long? beforeId = null;
        if (query.Cursor is not null)
        {
            if (!long.TryParse(query.Cursor, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var cursor) || cursor < 1)
            {
                throw new TaskValidationException("cursor", $"cursor must be a value returned as nextCursor (got '{query.Cursor}').");
            }

            beforeId = cursor;
        }

        var records = await _store.TasksListAsync(
            new TasksListParams(query.States, query.Type, query.Queue, beforeId, query.Limit + 1), cancellationToken).ConfigureAwait(false);
        var hasMore = records.Count > query.Limit;
        var page = records.Take(query.Limit).Select(record => ToInfo(record)).ToList();
        var next = hasMore ? page[^1].Id.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
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
    public async Task<StopResult> StopAsync(long id, CancellationToken cancellationToken = default)
    {
        var result = await _store.TaskCancelAsync(new TaskCancelParams(id, _time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        if (result.Outcome == TaskCancelOutcome.Cancelled)
        {
            _metrics.Cancelled(result.Task!);
        }

        return result.Outcome switch
        {
            TaskCancelOutcome.NotFound => new StopResult(StopOutcome.NotFound, null),
            TaskCancelOutcome.Cancelled => new StopResult(StopOutcome.Cancelled, ToInfo(result.Task!)),
            TaskCancelOutcome.AlreadyCancelled => new StopResult(StopOutcome.AlreadyCancelled, ToInfo(result.Task!)),
            TaskCancelOutcome.AlreadyFinished => new StopResult(StopOutcome.AlreadyFinished, ToInfo(result.Task!)),
            _ => await AwaitStopAsync(result.Task!, cancellationToken).ConfigureAwait(false),
        };
    }

    /// <summary>The stop is on disk; now make the owner act on it and wait until the task no longer runs.</summary>
    private async Task<StopResult> AwaitStopAsync(TaskRecord task, CancellationToken cancellationToken)
    {
        var deadline = _time.GetTimestamp();
        var wait = _options.StopGracePeriod + TimeSpan.FromSeconds(2);
        if (ExternalHolder.IsExternal(task.Node))
        {
            // An external worker learns of the stop from its heartbeat: answer the one waiting here at once.
            _workerSignals?.Stops.Signal(task.Id);
        }

        if (task.Node == _options.NodeName)
        {
            var execution = _running.RequestStop(task.Id, task.ClaimId);
            if (execution is not null)
            {
                try
                {
                    await execution.Finalized.WaitAsync(wait, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // Reported as pending below if the store still shows it running.
                }
            }
        }
        else if (_notifier is not null && task.Node is not null)
        {
            // Listen for the owner's "stopped" before telling it to stop, so that the answer cannot come first.
            var stopped = _stopWaiters.Register(task.Id);
            try
            {
                await _notifier.NotifyStopAsync(task.Id, task.Node, cancellationToken).ConfigureAwait(false);
                return await PollStopAsync(task, deadline, wait, stopped.Task, RemoteStopPollInterval, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _stopWaiters.Release(task.Id, stopped);
            }
        }

        return await PollStopAsync(task, deadline, wait, signal: null, StopPollInterval, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads the task until it no longer runs, or the wait is over; between reads, waits for the poll interval or the signal.</summary>
    private async Task<StopResult> PollStopAsync(
        TaskRecord task, long deadline, TimeSpan wait, Task? signal, TimeSpan pollInterval, CancellationToken cancellationToken)
    {
        while (true)
        {
            var current = await _store.TaskGetAsync(task.Id, cancellationToken).ConfigureAwait(false);
            if (current is null)
            {
                return new StopResult(StopOutcome.NotFound, null);
            }

            switch (current.State)
            {
                case TaskState.Cancelled:
                    return new StopResult(StopOutcome.Cancelled, ToInfo(current));
                case TaskState.Succeeded or TaskState.Failed:
                    return new StopResult(StopOutcome.AlreadyFinished, ToInfo(current));
                case TaskState.Queued or TaskState.Scheduled:
                    // Retried by someone in between: stop that too.
                    return await StopAsync(task.Id, cancellationToken).ConfigureAwait(false);
            }

            if (_time.GetElapsedTime(deadline) >= wait)
            {
                return new StopResult(StopOutcome.Pending, ToInfo(current));
            }

            // A signal that already came is spent: from now on only the poll paces the reads.
            signal = signal is { IsCompleted: true } ? null : signal;
            var poll = Task.Delay(pollInterval, _time, cancellationToken);
            await (signal is null ? poll : Task.WhenAny(poll, signal)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

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
            WakeDispatcher(null, ForWorkers(result.Task!.Type));
        }

        return new RetryResult(result.Outcome, result.Task is null ? null : ToInfo(result.Task));
    }

    /// <summary>The nodes that sent a heartbeat, most recent first.</summary>
    public Task<IReadOnlyList<NodeRecord>> NodesAsync(CancellationToken cancellationToken = default) =>
        _store.NodesListAsync(cancellationToken);

    /// <summary>
    /// Wakes the local dispatcher (at the run-at time of a delayed task), and the external workers' long polls when
    /// the tasks are theirs. Other nodes were told by the store, in the commit that made the tasks ready.
    /// </summary>
    private void WakeDispatcher(DateTimeOffset? runAt, bool forWorkers)
    {
        if (runAt is { } at && at > _time.GetUtcNow())
        {
            _wake.WakeAt(at);
            if (forWorkers)
            {
                _workerSignals?.TasksReadyAt(at);
            }
        }
        else
        {
            _wake.Set();
            if (forWorkers)
            {
                _workerSignals?.TasksReady();
            }
        }
    }

    /// <summary>True when external workers run tasks of this type, so their long polls should hear of new ones.</summary>
    private bool ForWorkers(string type) => _externalTypes?.Accepts(type) == true;

    private (NewTask Task, JsonElement Payload) Prepare(TaskRequest request, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(request.Type))
        {
            throw new TaskValidationException("type", "type is required: the name of a registered handler.");
        }

        if (!_handlers.Contains(request.Type) && _externalTypes?.Accepts(request.Type) != true)
        {
            var known = _handlers.Types.Count == 0 ? "none" : string.Join(", ", _handlers.Types);
            var external = _externalTypes?.DescribeFor(request.Type) ?? "";
            throw new TaskValidationException("type", $"unknown task type '{request.Type}'; registered types: {known}{external}.");
        }

        var payload = request.Payload ?? EmptyObject;
        if (payload.ValueKind != JsonValueKind.Object)
        {
            throw new TaskValidationException("payload", $"payload must be a JSON object (got {Describe(payload.ValueKind)}).");
        }

        var payloadJson = payload.GetRawText();
        if (JsonLimits.Check(payloadJson, _options.MaxPayloadBytes, _options.MaxJsonDepth) is { } violation)
        {
            throw new TaskValidationException("payload", "payload refused: " + violation.Message) { IsTooLarge = violation.TooLarge };
        }

        var queue = request.Queue ?? _options.DefaultQueue;
        if (TaskRules.CheckQueue(queue) is { } queueError)
        {
            throw new TaskValidationException("queue", queueError);
        }

        var priority = request.Priority ?? 0;
        if (priority is < TaskRules.MinPriority or > TaskRules.MaxPriority)
        {
            throw new TaskValidationException("priority", $"priority must be between {TaskRules.MinPriority} and {TaskRules.MaxPriority} (got {priority}).");
        }

        var maxAttempts = request.MaxAttempts ?? _options.DefaultMaxAttempts;
        if (maxAttempts is < 1 or > TaskRules.MaxAttempts)
        {
            throw new TaskValidationException("maxAttempts", $"maxAttempts must be between 1 and {TaskRules.MaxAttempts} (got {maxAttempts}).");
        }

        var timeout = request.Timeout ?? _options.DefaultTimeout;
        if (timeout < TimeSpan.FromMilliseconds(1) || timeout > TaskRules.MaxTimeout)
        {
            throw new TaskValidationException("timeoutSeconds", $"timeout must be between 0.001 and {TaskRules.MaxTimeout.TotalSeconds} seconds (got {timeout.TotalSeconds}).");
        }

        if (_handlers.HasValidator(request.Type))
        {
            ValidatePayload(request.Type, payload);
        }

        var runAt = request.RunAt is { } at && at > now ? at : now;
        var traceParent = Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity ? activity.Id : null;
        return (new NewTask(request.Type, queue, priority, payloadJson, maxAttempts, timeout, now, runAt, traceParent), payload);
    }

    private void ValidatePayload(string type, JsonElement payload)
    {
        using var scope = _scopes.CreateScope();
        if (HandlerRegistry.Resolve(scope.ServiceProvider, type) is ITaskPayloadValidator validator && validator.Validate(payload) is { } error)
        {
            throw new TaskValidationException("payload", error);
        }
    }

    private static readonly JsonElement EmptyObject = JsonSerializer.SerializeToElement(new Dictionary<string, object>());

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };

    internal static TaskInfo ToInfo(TaskRecord record, JsonElement? payload = null) => new(
        record.Id,
        record.Type,
        record.Queue,
        record.Priority,
        payload ?? ParseJson(record.PayloadJson),
        record.State,
        record.Attempt,
        record.MaxAttempts,
        record.Timeout,
        record.CreatedAt,
        record.RunAt,
        record.StartedAt,
        record.FinishedAt,
        record.ResultJson is null ? null : ParseJson(record.ResultJson),
        record.Error,
        record.Node,
        record.StopRequested,
        ErrorHistory.Parse(record.ErrorsJson));

    private static JsonElement ParseJson(string json) => JsonSerializer.Deserialize<JsonElement>(json, JsonLimits.ReadBack);
}
