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

    internal const string InsertSql = """
        INSERT INTO tasksystem_tasks (type, queue, priority, payload, state, max_attempts, timeout_ms, created_at, run_at, trace_parent)
        SELECT * FROM unnest(@type::text[], @queue::text[], @priority::integer[], @payload::text[], @state::text[],
                             @max_attempts::integer[], @timeout_ms::bigint[], @created_at::timestamptz[], @run_at::timestamptz[], @trace_parent::text[])
        RETURNING id
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
        long[] ids;
        try
        {
            ids = await WriteAsync(batch).ConfigureAwait(false);
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
        var expected = batch.Sum(request => request.Tasks.Count);
        if (ids.Length != expected)
        {
            Fail(batch, new InvalidOperationException($"The insert returned {ids.Length} ids for {expected} tasks."));
            return;
        }

        var offset = 0;
        foreach (var request in batch)
        {
            request.Complete(ids, offset);
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

    /// <summary>Writes the batch as one statement; returns the ids it got, in the order of the tasks.</summary>
    private Task<long[]> WriteAsync(List<InsertRequest> batch) => _database.WriteAsync(async (connection, cancellationToken) =>
    {
        var tasks = batch.SelectMany(request => request.Tasks).ToList();
        await using var command = new NpgsqlBatch(connection);
        command.BatchCommands.Add(InsertCommand(tasks));
        if (tasks.Exists(t => t.InitialState == TaskState.Queued))
        {
            // Sent by PostgreSQL at the commit of this batch's implicit transaction, and only if it commits.
            var notify = new NpgsqlBatchCommand("SELECT pg_notify(@channel, @node)");
            notify.Parameters.Add(new NpgsqlParameter<string>("channel", PostgresChannels.TasksReady));
            notify.Parameters.Add(new NpgsqlParameter<string>("node", _node));
            command.BatchCommands.Add(notify);
        }

        return await ReadIdsAsync(command, tasks.Count, cancellationToken).ConfigureAwait(false);
    }, onUncertain: null, CancellationToken.None);

    /// <summary>The multi-row insert of <paramref name="tasks"/>; it returns their ids.</summary>
    internal static NpgsqlBatchCommand InsertCommand(IReadOnlyList<NewTask> tasks)
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
        return insert;
    }

    /// <summary>
    /// Runs a batch that starts with <see cref="InsertCommand"/> and returns the new ids it read, sorted (so in row
    /// order). It never throws for a short count: the batch may have committed, and the caller decides what that means.
    /// </summary>
    internal static async Task<long[]> ReadIdsAsync(NpgsqlBatch command, int count, CancellationToken cancellationToken)
    {
        var ids = new List<long>(count);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                ids.Add(reader.GetInt64(0));
            }
        }

        // Identity values are drawn in the order unnest yields the rows; sorting makes the mapping independent of
        // the order RETURNING happens to use.
        ids.Sort();
        return [.. ids];
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

        public void Complete(long[] ids, int offset)
        {
            var records = new TaskRecord[tasks.Count];
            for (var i = 0; i < records.Length; i++)
            {
                records[i] = Inserted(tasks[i], ids[offset + i]);
            }

            Completion.TrySetResult(records);
        }
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
    };
}
