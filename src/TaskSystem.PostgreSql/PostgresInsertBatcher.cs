using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;
using TaskSystem.Storage;
using static TaskSystem.PostgreSql.PostgresRows;

namespace TaskSystem.PostgreSql;

/// <summary>
/// Group commit for inserts. A 201 must mean committed, and a commit per request would cap a node at a few
/// thousand tasks a second; so concurrent inserts queue here and a few writer loops each take whatever has queued
/// up and write it as one multi-row INSERT (one round trip, one commit), with the "tasks are ready" NOTIFY in the
/// same implicit transaction. Nobody is answered before that commit, and a commit whose outcome is unknown (the
/// connection dropped) is answered as a failure, never as a success.
/// </summary>
internal sealed class PostgresInsertBatcher : IAsyncDisposable
{
    /// <summary>Bounds one statement so that a flood of inserts still commits, and answers, in steady steps.</summary>
    private const int MaxTasksPerCommit = 2000;

    /// <summary>Two statements in flight: one is being written while the next batch gathers and is sent.</summary>
    private const int Writers = 2;

    /// <summary>
    /// The multi-row insert. A row whose idempotency key or schedule tick a kept task holds is skipped (and one that
    /// races an uncommitted insert of the same key waits for it to commit or roll back first), so a key is never
    /// held twice; <see cref="HoldersByKeySql"/> then finds who holds it.
    /// </summary>
    internal const string InsertSql = """
        INSERT INTO tasksystem_tasks (type, queue, priority, payload, state, max_attempts, timeout_ms, created_at, run_at, trace_parent,
                                      idempotency_key, schedule, scheduled_for)
        SELECT * FROM unnest(@type::text[], @queue::text[], @priority::integer[], @payload::text[], @state::text[],
                             @max_attempts::integer[], @timeout_ms::bigint[], @created_at::timestamptz[], @run_at::timestamptz[], @trace_parent::text[],
                             @key::text[], @schedule::text[], @scheduled_for::timestamptz[])
        ON CONFLICT DO NOTHING
        RETURNING id
        """;

    /// <summary>
    /// The tasks holding the batch's keys, read by a later statement of the same implicit transaction: under READ
    /// COMMITTED it sees both this batch's rows and those a racing insert committed while the insert waited.
    /// </summary>
    private static readonly string HoldersByKeySql = $"SELECT {Columns} FROM tasksystem_tasks WHERE idempotency_key = ANY(@keys)";

    /// <summary>The tasks holding the batch's schedule ticks (as <see cref="HoldersByKeySql"/>).</summary>
    private static readonly string HoldersByTickSql = $"""
        SELECT {Columns} FROM tasksystem_tasks
        WHERE (schedule, scheduled_for) IN (SELECT * FROM unnest(@schedules::text[], @ticks::timestamptz[]))
        """;

    private readonly Channel<InsertRequest> _queue = Channel.CreateBounded<InsertRequest>(
        new BoundedChannelOptions(16 * 1024) { FullMode = BoundedChannelFullMode.Wait });

    private readonly PostgresDatabase _database;
    private readonly string _node;
    private readonly ILogger _logger;
    private readonly Task[] _loops;

    public PostgresInsertBatcher(PostgresDatabase database, string node, ILogger logger)
    {
        _database = database;
        _node = node;
        _logger = logger;
        _loops = [.. Enumerable.Range(0, Writers).Select(_ => Task.Run(RunAsync))];
    }

    public async Task<IReadOnlyList<TaskRecord>> InsertAsync(IReadOnlyList<NewTask> tasks, CancellationToken cancellationToken)
    {
        if (tasks.Count == 0)
        {
            return [];
        }

        var request = new InsertRequest(tasks);
        try
        {
            await _queue.Writer.WriteAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException exception)
        {
            throw new ObjectDisposedException("The PostgreSQL store is closed.", exception);
        }

        return await request.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// One writer loop. Nothing may leave it: a loop that died would leave its batch's callers waiting forever and
    /// halve the writers. Every batch is answered, one way or another, before the next is taken.
    /// </summary>
    private async Task RunAsync()
    {
        var batch = new List<InsertRequest>();
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var rows = 0;
            while (rows < MaxTasksPerCommit && _queue.Reader.TryRead(out var request))
            {
                batch.Add(request);
                rows += request.Tasks.Count;
            }

            if (batch.Count == 0)
            {
                continue;
            }

            try
            {
                await CommitAsync(batch).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                // A fault of the batcher itself, not of the database: whoever is still waiting gets it.
                PostgresLog.InsertBatchFaulted(_logger, batch.Count, exception);
                Fail(batch, exception);
            }

            batch.Clear();
        }
    }

    private async Task CommitAsync(List<InsertRequest> batch)
    {
        TaskRecord[]? records;
        try
        {
            records = await WriteAsync(batch).ConfigureAwait(false);
        }
        catch (Exception exception) when (batch.Count > 1 && !PostgresErrors.IsUnavailable(exception) && exception is not TaskStoreUnavailableException)
        {
            // The statement failed before it could commit (the server refused it, or it could not be sent), so
            // nothing was written: one bad request must not fail the others. Each is written on its own.
            PostgresLog.InsertBatchSplit(_logger, batch.Count, exception);
            foreach (var request in batch)
            {
                await CommitAsync([request]).ConfigureAwait(false);
            }

            return;
        }
        catch (Exception exception)
        {
            // One request alone, or a commit whose outcome is unknown: its callers get the error (503 when unknown).
            Fail(batch, exception);
            return;
        }

        // Committed: from here on nothing is written again, whatever happens.
        if (records is null)
        {
            Fail(batch, new InvalidOperationException("The insert's rows did not match the tasks sent."));
            return;
        }

        var offset = 0;
        foreach (var request in batch)
        {
            request.Complete(records, offset);
            offset += request.Tasks.Count;
        }
    }

    private static void Fail(List<InsertRequest> batch, Exception exception)
    {
        foreach (var request in batch)
        {
            request.Completion.TrySetException(exception);
        }
    }

    /// <summary>Writes the batch as one statement; returns the rows, in the order of the tasks (null if they do not match).</summary>
    private Task<TaskRecord[]?> WriteAsync(List<InsertRequest> batch) => _database.WriteAsync(async (connection, cancellationToken) =>
    {
        var tasks = batch.SelectMany(request => request.Tasks).ToList();
        await using var command = new NpgsqlBatch(connection);
        AddInsertCommands(command, tasks);
        if (tasks.Exists(t => t.InitialState == TaskState.Queued))
        {
            // Sent by PostgreSQL at the commit of this batch's implicit transaction, and only if it commits.
            var notify = new NpgsqlBatchCommand("SELECT pg_notify(@channel, @node)");
            notify.Parameters.Add(new NpgsqlParameter<string>("channel", PostgresChannels.TasksReady));
            notify.Parameters.Add(new NpgsqlParameter<string>("node", _node));
            command.BatchCommands.Add(notify);
        }

        return await ReadInsertedAsync(command, tasks, cancellationToken).ConfigureAwait(false);
    }, onUncertain: null, CancellationToken.None);

    /// <summary>
    /// Adds the multi-row insert of <paramref name="tasks"/> to <paramref name="batch"/> and, when some have a key or
    /// a schedule tick, the reads of who holds them; <see cref="ReadInsertedAsync"/> reads the results. Commands the
    /// caller adds after these (a NOTIFY) run in the same implicit transaction.
    /// </summary>
    internal static void AddInsertCommands(NpgsqlBatch batch, IReadOnlyList<NewTask> tasks)
    {
        var insert = new NpgsqlBatchCommand(InsertSql);
        insert.Parameters.Add(new NpgsqlParameter<string[]>("type", [.. tasks.Select(t => t.Type)]));
        insert.Parameters.Add(new NpgsqlParameter<string[]>("queue", [.. tasks.Select(t => t.Queue)]));
        insert.Parameters.Add(new NpgsqlParameter<int[]>("priority", [.. tasks.Select(t => t.Priority)]));
        insert.Parameters.Add(new NpgsqlParameter<string[]>("payload", [.. tasks.Select(t => t.PayloadJson)]));
        insert.Parameters.Add(new NpgsqlParameter<string[]>("state", [.. tasks.Select(t => t.InitialState.ToWire())]));
        insert.Parameters.Add(new NpgsqlParameter<int[]>("max_attempts", [.. tasks.Select(t => t.MaxAttempts)]));
        insert.Parameters.Add(new NpgsqlParameter<long[]>("timeout_ms", [.. tasks.Select(t => (long)t.Timeout.TotalMilliseconds)]));
        insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]>("created_at", [.. tasks.Select(t => Utc(t.CreatedAt))]));
        insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]>("run_at", [.. tasks.Select(t => Utc(t.RunAt))]));
        insert.Parameters.Add(new NpgsqlParameter<string?[]>("trace_parent", [.. tasks.Select(t => t.TraceParent)]));
        insert.Parameters.Add(new NpgsqlParameter<string?[]>("key", [.. tasks.Select(t => t.Key)]));
        insert.Parameters.Add(new NpgsqlParameter<string?[]>("schedule", [.. tasks.Select(t => t.Schedule)]));
        insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset?[]>("scheduled_for", [.. tasks.Select(t => t.ScheduledFor is { } at ? Utc(at) : (DateTimeOffset?)null)]));
        batch.BatchCommands.Add(insert);

        if (tasks.Any(t => t.Key is not null))
        {
            var holders = new NpgsqlBatchCommand(HoldersByKeySql);
            holders.Parameters.Add(new NpgsqlParameter<string[]>("keys", [.. tasks.Where(t => t.Key is not null).Select(t => t.Key!).Distinct(StringComparer.Ordinal)]));
            batch.BatchCommands.Add(holders);
        }

        var ticked = tasks.Where(t => t.Schedule is not null && t.ScheduledFor is not null).ToList();
        if (ticked.Count > 0)
        {
            var holders = new NpgsqlBatchCommand(HoldersByTickSql);
            holders.Parameters.Add(new NpgsqlParameter<string[]>("schedules", [.. ticked.Select(t => t.Schedule!)]));
            holders.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]>("ticks", [.. ticked.Select(t => Utc(t.ScheduledFor!.Value))]));
            batch.BatchCommands.Add(holders);
        }
    }

    /// <summary>
    /// Runs a batch built by <see cref="AddInsertCommands"/> and returns the rows in the order of
    /// <paramref name="tasks"/>: a new row for each task inserted, the holder (with <see cref="TaskRecord.Existing"/>)
    /// for each whose key or tick was taken, by an earlier task or by an earlier item of this very batch. Null when
    /// the rows cannot be matched to the tasks. It never throws for that: the batch may have committed, and the caller
    /// decides what that means.
    /// </summary>
    internal static async Task<TaskRecord[]?> ReadInsertedAsync(NpgsqlBatch command, IReadOnlyList<NewTask> tasks, CancellationToken cancellationToken)
    {
        var ids = new List<long>(tasks.Count);
        var byKey = new Dictionary<string, TaskRecord>(StringComparer.Ordinal);
        var byTick = new Dictionary<(string, DateTimeOffset), TaskRecord>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                ids.Add(reader.GetInt64(0));
            }

            if (tasks.Any(t => t.Key is not null) && await reader.NextResultAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var holder = ReadTask(reader);
                    byKey[holder.Key!] = holder;
                }
            }

            if (tasks.Any(t => t.Schedule is not null && t.ScheduledFor is not null) && await reader.NextResultAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var holder = ReadTask(reader);
                    byTick[(holder.Schedule!, holder.ScheduledFor!.Value)] = holder;
                }
            }
        }

        var inserted = ids.ToHashSet();
        var given = new HashSet<long>();
        var records = new TaskRecord?[tasks.Count];
        for (var i = 0; i < records.Length; i++)
        {
            var task = tasks[i];
            if (task.Key is null && task.Schedule is null)
            {
                continue;
            }

            TaskRecord? holder = null;
            if (task.Key is { } key)
            {
                byKey.TryGetValue(key, out holder);
            }

            if (holder is null && task.Schedule is { } schedule && task.ScheduledFor is { } tick)
            {
                byTick.TryGetValue((schedule, Utc(tick)), out holder);
            }

            if (holder is null)
            {
                return null;
            }

            // The first item of the batch with a key is the one the insert kept (rows go in in the order unnest yields them).
            records[i] = inserted.Contains(holder.Id) && given.Add(holder.Id) ? holder : holder with { Existing = true };
        }

        // Identity values are drawn in the order unnest yields the rows; sorting makes the mapping independent of
        // the order RETURNING happens to use.
        var plain = ids.Where(id => !given.Contains(id)).Order().ToList();
        var next = 0;
        for (var i = 0; i < records.Length; i++)
        {
            if (records[i] is null)
            {
                if (next == plain.Count)
                {
                    return null;
                }

                records[i] = Inserted(tasks[i], plain[next++]);
            }
        }

        return next == plain.Count ? [.. records.Select(r => r!)] : null;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_loops).ConfigureAwait(false);
    }

    private sealed class InsertRequest(IReadOnlyList<NewTask> tasks)
    {
        public IReadOnlyList<NewTask> Tasks => tasks;

        public TaskCompletionSource<IReadOnlyList<TaskRecord>> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Complete(TaskRecord[] records, int offset) => Completion.TrySetResult(records[offset..(offset + tasks.Count)]);
    }

    /// <summary>The row an insert of <paramref name="task"/> wrote, as a read would return it.</summary>
    internal static TaskRecord Inserted(NewTask task, long id) => new()
    {
        Id = id,
        Type = task.Type,
        Queue = task.Queue,
        Priority = task.Priority,
        PayloadJson = task.PayloadJson,
        State = task.InitialState,
        Attempt = 0,
        MaxAttempts = task.MaxAttempts,
        Timeout = TimeSpan.FromMilliseconds((long)task.Timeout.TotalMilliseconds),
        CreatedAt = Utc(task.CreatedAt),
        RunAt = Utc(task.RunAt),
        TraceParent = task.TraceParent,
        Key = task.Key,
        Schedule = task.Schedule,
        ScheduledFor = task.ScheduledFor is { } at ? Utc(at) : null,
    };
}
