using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using TaskSystem.Handlers;

namespace TaskSystem.Testing;

/// <summary>
/// An in-memory <see cref="ITaskManager"/> for an app's tests: it records every enqueue, so a test asserts "this
/// controller enqueued that task" without a database or an engine. Nothing runs: tasks stay queued until the test
/// finishes them with <see cref="Complete"/>, <see cref="Fail"/> or a stop, which also ends a <see cref="WaitAsync"/>.
/// Requests get the library's defaults (queue <c>default</c>, 3 attempts, 30 minutes); with <see cref="AcceptedTypes"/>
/// set, an unknown type is refused as the real manager refuses it. Thread-safe.
/// </summary>
public sealed class FakeTaskManager : ITaskManager
{
    private readonly object _gate = new();
    private readonly List<TaskInfo> _tasks = [];
    private readonly Dictionary<long, TaskCompletionSource> _finished = [];
    private readonly PayloadJson _json;
    private readonly TimeProvider _time;
    private long _nextId;

    /// <summary>Creates an empty fake.</summary>
    /// <param name="jsonTypeInfoResolver">The app's source-generated JSON context for typed enqueues, as given to <c>AddJsonTypeInfoResolver</c>.</param>
    /// <param name="time">The clock of created and finished times. Default: the system's.</param>
    public FakeTaskManager(IJsonTypeInfoResolver? jsonTypeInfoResolver = null, TimeProvider? time = null)
    {
        _json = jsonTypeInfoResolver is null ? PayloadJson.Default : new PayloadJson([new PayloadJsonResolver(jsonTypeInfoResolver)]);
        _time = time ?? TimeProvider.System;
    }

    /// <summary>When not empty, only these types are accepted (as a real app accepts only its registered types).</summary>
    public ISet<string> AcceptedTypes { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Every task enqueued so far, in order, as it is now.</summary>
    public IReadOnlyList<TaskInfo> Tasks
    {
        get
        {
            lock (_gate)
            {
                return [.. _tasks];
            }
        }
    }

    /// <summary>The tasks of <paramref name="type"/> enqueued so far, in order.</summary>
    public IReadOnlyList<TaskInfo> TasksOfType(string type) => [.. Tasks.Where(t => t.Type == type)];

    /// <summary>The payloads of the tasks of <paramref name="type"/>, read as <typeparamref name="TPayload"/> (web defaults).</summary>
    public IReadOnlyList<TPayload> PayloadsOf<TPayload>(string type) =>
        [.. TasksOfType(type).Select(t => t.Payload.Deserialize(_json.TypeInfo<TPayload>())!)];

    /// <inheritdoc />
    public Task<TaskInfo> EnqueueAsync(TaskRequest request, CancellationToken cancellationToken = default) =>
        Task.FromResult(Add([request])[0]);

    /// <inheritdoc />
    public Task<TaskInfo> EnqueueAsync<TPayload>(string type, TPayload payload, CancellationToken cancellationToken = default) =>
        EnqueueAsync(new TaskRequest(type) { Payload = JsonSerializer.SerializeToElement(payload, _json.TypeInfo<TPayload>()) }, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<TaskInfo>> EnqueueManyAsync(IEnumerable<TaskRequest> requests, CancellationToken cancellationToken = default) =>
        Task.FromResult(Add([.. requests]));

    /// <summary>Records the task as if the transaction committed (the fake has no database to roll back).</summary>
    public Task<TaskInfo> EnqueueAsync(TaskRequest request, DbTransaction transaction, CancellationToken cancellationToken = default) =>
        EnqueueAsync(request, cancellationToken);

    /// <summary>Records the tasks as if the transaction committed (the fake has no database to roll back).</summary>
    public Task<IReadOnlyList<TaskInfo>> EnqueueManyAsync(IEnumerable<TaskRequest> requests, DbTransaction transaction, CancellationToken cancellationToken = default) =>
        EnqueueManyAsync(requests, cancellationToken);

    /// <inheritdoc />
    public Task<TaskInfo?> GetAsync(long id, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_tasks.Find(t => t.Id == id));
        }
    }

    /// <inheritdoc />
    public Task<TaskPage> ListAsync(TaskListQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var before = query.Cursor is null ? long.MaxValue : long.Parse(query.Cursor, CultureInfo.InvariantCulture);
        var matching = Tasks
            .Where(t => t.Id < before && (query.States is not { Count: > 0 } || query.States.Contains(t.State))
                && (query.Type is null || t.Type == query.Type) && (query.Queue is null || t.Queue == query.Queue))
            .OrderByDescending(t => t.Id)
            .Take(query.Limit + 1)
            .ToList();
        var page = matching.Take(query.Limit).ToList();
        return Task.FromResult(new TaskPage(page, matching.Count > query.Limit ? page[^1].Id.ToString(CultureInfo.InvariantCulture) : null));
    }

    /// <inheritdoc />
    public async Task<TaskInfo?> WaitAsync(long id, CancellationToken cancellationToken = default)
    {
        Task finished;
        lock (_gate)
        {
            var task = _tasks.Find(t => t.Id == id);
            if (task is null || task.State.IsFinal())
            {
                return task;
            }

            finished = Finished(id).Task;
        }

        await finished.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await GetAsync(id, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<StopResult> StopAsync(long id, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var task = _tasks.Find(t => t.Id == id);
            StopResult result = task switch
            {
                null => new StopResult(StopOutcome.NotFound, null),
                { State: TaskState.Cancelled } => new StopResult(StopOutcome.AlreadyCancelled, task),
                { State: TaskState.Succeeded or TaskState.Failed } => new StopResult(StopOutcome.AlreadyFinished, task),
                _ => new StopResult(StopOutcome.Cancelled, Replace(task with { State = TaskState.Cancelled, FinishedAt = _time.GetUtcNow(), Error = "stopped by request" })),
            };
            return Task.FromResult(result);
        }
    }

    /// <inheritdoc />
    public Task<RetryResult> RetryAsync(long id, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var task = _tasks.Find(t => t.Id == id);
            RetryResult result = task switch
            {
                null => new RetryResult(RetryOutcome.NotFound, null),
                { State: TaskState.Failed or TaskState.Cancelled } => new RetryResult(
                    RetryOutcome.Queued, Replace(task with { State = TaskState.Queued, Attempt = 0, FinishedAt = null, Error = null, Result = null })),
                _ => new RetryResult(RetryOutcome.NotRetryable, task),
            };
            return Task.FromResult(result);
        }
    }

    /// <summary>Finishes a task as succeeded with <paramref name="result"/>, as if a handler returned it.</summary>
    public TaskInfo Complete(long id, JsonElement? result = null) =>
        Finish(id, task => task with { State = TaskState.Succeeded, Attempt = task.Attempt + 1, Result = result, Error = null });

    /// <summary>Finishes a task as failed with <paramref name="error"/>, as if its last attempt threw.</summary>
    public TaskInfo Fail(long id, string error = "failed in a test") =>
        Finish(id, task => task with
        {
            State = TaskState.Failed,
            Attempt = task.Attempt + 1,
            Error = error,
            Errors = [.. task.Errors, new TaskAttemptError(task.Attempt + 1, error, _time.GetUtcNow())],
        });

    /// <summary>Forgets every task.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _tasks.Clear();
        }
    }

    private IReadOnlyList<TaskInfo> Add(IReadOnlyList<TaskRequest> requests)
    {
        var now = _time.GetUtcNow();
        var created = requests.Select(request => Create(request, now)).ToList();
        lock (_gate)
        {
            var answers = new List<TaskInfo>(created.Count);
            foreach (var task in created)
            {
                // A key held by a recorded task returns that task, as the real store does.
                if (task.Key is not null && _tasks.Find(t => t.Key == task.Key) is { } holder)
                {
                    answers.Add(holder with { Existing = true });
                    continue;
                }

                var added = task with { Id = ++_nextId };
                _tasks.Add(added);
                answers.Add(added);
            }

            return [.. answers];
        }
    }

    private TaskInfo Create(TaskRequest request, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrEmpty(request.Type))
        {
            throw new TaskValidationException("type", "type is required: the name of a registered handler.");
        }

        if (AcceptedTypes.Count > 0 && !AcceptedTypes.Contains(request.Type))
        {
            throw new TaskValidationException("type", $"unknown task type '{request.Type}'; registered types: {string.Join(", ", AcceptedTypes.Order(StringComparer.Ordinal))}.");
        }

        var payload = request.Payload ?? JsonDocument.Parse("{}").RootElement.Clone();
        if (payload.ValueKind != JsonValueKind.Object)
        {
            throw new TaskValidationException("payload", "payload must be a JSON object.");
        }

        var runAt = request.RunAt is { } at && at > now ? at : now;
        return new TaskInfo(
            0, request.Type, request.Queue ?? "default", request.Priority ?? 0, payload.Clone(),
            runAt > now ? TaskState.Scheduled : TaskState.Queued, 0, request.MaxAttempts ?? 3, request.Timeout ?? TimeSpan.FromMinutes(30),
            now, runAt, null, null, null, null, null, false, [])
        {
            Key = request.Key,
        };
    }

    private TaskInfo Finish(long id, Func<TaskInfo, TaskInfo> change)
    {
        lock (_gate)
        {
            var task = _tasks.Find(t => t.Id == id) ?? throw new ArgumentException($"No task has the id {id}.", nameof(id));
            if (task.State.IsFinal())
            {
                throw new InvalidOperationException($"Task {id} is already {task.State.ToWire()}.");
            }

            return Replace(change(task) with { FinishedAt = _time.GetUtcNow() });
        }
    }

    /// <summary>Stores the new version of a task and ends the waits on it when it is final. Called under the lock.</summary>
    private TaskInfo Replace(TaskInfo task)
    {
        _tasks[_tasks.FindIndex(t => t.Id == task.Id)] = task;
        if (task.State.IsFinal() && _finished.Remove(task.Id, out var waiters))
        {
            waiters.TrySetResult();
        }

        return task;
    }

    private TaskCompletionSource Finished(long id)
    {
        if (!_finished.TryGetValue(id, out var waiter))
        {
            _finished[id] = waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        return waiter;
    }
}
