using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using static TaskSystem.Storage.Sqlite.SqliteRows;

namespace TaskSystem.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode with synchronous=FULL, so a commit is on disk when it returns.
/// Writes go through one <see cref="SqliteWriter"/> (group commit); reads use pooled connections of their own.
/// </summary>
internal sealed partial class SqliteTaskStore : ITaskStore
{
    private const string Ready = "state IN ('queued', 'scheduled', 'awaiting')";
    private const string Fence = "id = $id AND state = 'running' AND node = $node AND claim_id = $claim";

    private readonly string _databasePath;
    private readonly string _readConnectionString;
    private readonly string _writeConnectionString;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _openLock = new(1, 1);
    private SqliteFileLock? _fileLock;
    private SqliteWriter? _writer;
    private bool _disposed;

    public SqliteTaskStore(string connectionString, ILogger<SqliteTaskStore> logger)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        if (string.IsNullOrWhiteSpace(builder.DataSource) || builder.DataSource == ":memory:" || builder.Mode == SqliteOpenMode.Memory)
        {
            throw new ArgumentException(
                "TaskSystem:ConnectionString must name a SQLite database file (for example 'Data Source=data/tasks.db'): an in-memory database is not durable.",
                nameof(connectionString));
        }

        _databasePath = Path.GetFullPath(builder.DataSource);
        builder.DataSource = _databasePath;
        builder.Mode = SqliteOpenMode.ReadWriteCreate;
        builder.Pooling = false;
        _writeConnectionString = builder.ToString();
        builder.Pooling = true;
        _readConnectionString = builder.ToString();
        _logger = logger;
    }

    public StoreCapabilities Capabilities { get; } = new(SingleProcess: true);

    public string DatabasePath => _databasePath;

    public async Task MigrateAsync(CancellationToken cancellationToken) => await WriterAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>Opens the database on first use: lock, pragmas, migrations, then the writer loop.</summary>
    private async ValueTask<SqliteWriter> WriterAsync(CancellationToken cancellationToken)
    {
        var writer = Volatile.Read(ref _writer);
        if (writer is not null)
        {
            return writer;
        }

        await _openLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_writer is not null)
            {
                return _writer;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(_databasePath)!);
            _fileLock = SqliteFileLock.Acquire(_databasePath);
            try
            {
                using var connection = OpenWriterConnection();
                CheckpointAtStart(connection);
                SqliteSchema.Migrate(connection);
            }
            catch
            {
                _fileLock.Dispose();
                _fileLock = null;
                throw;
            }

            Volatile.Write(ref _writer, new SqliteWriter(OpenWriterConnection, new SqliteVolume(_databasePath), WriteHealth, _logger, CommitMetrics));
            return _writer;
        }
        finally
        {
            _openLock.Release();
        }
    }

    /// <summary>The writer's connection: WAL lets readers run beside it; FULL fsyncs a commit (a 201 means on disk).</summary>
    private SqliteConnection OpenWriterConnection()
    {
        var connection = new SqliteConnection(_writeConnectionString);
        try
        {
            connection.Open();
            using var pragmas = connection.CreateCommand();
            pragmas.CommandText =
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA temp_store = MEMORY;";
            pragmas.ExecuteNonQuery();
            PinQueryPlans(connection);
            ConfigureWriterConnection?.Invoke(connection);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Turns on SQLite's query planner stability guarantee for the writer. Without it, SQLite reads the value bound to
    /// <c>LIMIT $limit</c> when it plans the claim, so every new binding (each claim) expires the cached statement and
    /// it is parsed and planned again: measured at 0.6 parses per task in a 5-worker drain, 40% more tasks a second
    /// without them. The writer's statements name their indexes where it matters; none gains from a per-value plan.
    /// </summary>
    private static void PinQueryPlans(SqliteConnection connection)
    {
        var result = SQLitePCL.raw.sqlite3_db_config(connection.Handle, SQLitePCL.raw.SQLITE_DBCONFIG_ENABLE_QPSG, 1, out var enabled);
        if (result != SQLitePCL.raw.SQLITE_OK || enabled != 1)
        {
            throw new InvalidOperationException($"SQLite refused to pin query plans (sqlite3_db_config returned {result}).");
        }
    }

    /// <summary>Queues a write on the writer (see <see cref="SqliteWriter.WriteAsync"/>); internal for tests of its failure paths.</summary>
    internal async Task<T> WriteAsync<T>(
        Func<SqliteWriteContext, T> work, CancellationToken cancellationToken, bool singleStatement = false, bool durable = false, bool grows = false)
    {
        var writer = await WriterAsync(cancellationToken).ConfigureAwait(false);
        return await writer.WriteAsync(work, singleStatement, durable, grows).ConfigureAwait(false);
    }

    private async Task<T> ReadAsync<T>(Func<SqliteConnection, T> read, CancellationToken cancellationToken)
    {
        await WriterAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = new SqliteConnection(_readConnectionString);
        connection.Open();
        return read(connection);
    }

    /// <summary>
    /// One writer, so no race: a keyed (or schedule tick) insert that finds the key held adds nothing (the unique
    /// index refuses it) and reads the holder, which is returned with <see cref="TaskRecord.Existing"/> set.
    /// </summary>
    public async Task<IReadOnlyList<TaskRecord>> TasksInsertAsync(TasksInsertParams parameters, CancellationToken cancellationToken)
    {
        var tasks = parameters.Tasks;
        var continuations = tasks.Any(t => t.After is { Length: > 0 });
        var released = 0;
        var inserted = await WriteAsync<IReadOnlyList<TaskRecord>>(context =>
        {
            for (var i = 0; continuations && i < tasks.Count; i++)
            {
                CheckParents(context, tasks[i], i, tasks.Count);
            }

            var inserted = new TaskRecord[tasks.Count];
            for (var i = 0; i < inserted.Length; i++)
            {
                inserted[i] = InsertTask(context, tasks[i]);
                if (!inserted[i].Existing && tasks[i].After is { Length: > 0 })
                {
                    inserted[i] = LinkParents(context, inserted[i], tasks[i], ref released);
                }
            }

            return inserted;
        }, cancellationToken, singleStatement: tasks.Count == 1 && !continuations, durable: true, grows: true).ConfigureAwait(false);
        Released(released);
        return inserted;
    }

    /// <summary>Inserts one task in the writer's transaction; a taken key or tick returns its holder instead.</summary>
    private static TaskRecord InsertTask(SqliteWriteContext context, NewTask task)
    {
        var state = task.InitialState;
        var id = context.Command("""
                INSERT INTO tasks (type, queue, priority, payload, state, max_attempts, timeout_ms, created_at, run_at, trace_parent,
                                   idempotency_key, schedule, scheduled_for)
                VALUES ($type, $queue, $priority, $payload, $state, $max_attempts, $timeout_ms, $created_at, $run_at, $trace_parent,
                        $key, $schedule, $scheduled_for)
                ON CONFLICT DO NOTHING
                RETURNING id
                """)
            .Bind("$type", task.Type)
            .Bind("$queue", task.Queue)
            .Bind("$priority", task.Priority)
            .Bind("$payload", task.PayloadJson)
            .Bind("$state", state.ToWire())
            .Bind("$max_attempts", task.MaxAttempts)
            .Bind("$timeout_ms", (long)task.Timeout.TotalMilliseconds)
            .Bind("$created_at", Ms(task.CreatedAt))
            .Bind("$run_at", Ms(task.RunAt))
            .Bind("$trace_parent", task.TraceParent)
            .Bind("$key", task.Key)
            .Bind("$schedule", task.Schedule)
            .Bind("$scheduled_for", task.ScheduledFor is { } tick ? Ms(tick) : null)
            .ExecuteScalar();
        if (id is null)
        {
            return Holder(context, task);
        }

        return new TaskRecord
        {
            Id = (long)id,
            Type = task.Type,
            Queue = task.Queue,
            Priority = task.Priority,
            PayloadJson = task.PayloadJson,
            State = state,
            Attempt = 0,
            MaxAttempts = task.MaxAttempts,
            Timeout = TimeSpan.FromMilliseconds((long)task.Timeout.TotalMilliseconds),
            CreatedAt = Time(Ms(task.CreatedAt)),
            RunAt = Time(Ms(task.RunAt)),
            TraceParent = task.TraceParent,
            Key = task.Key,
            Schedule = task.Schedule,
            ScheduledFor = task.ScheduledFor is { } at ? Time(Ms(at)) : null,
        };
    }

    /// <summary>The kept task that holds the key (or schedule tick) an insert found taken.</summary>
    private static TaskRecord Holder(SqliteWriteContext context, NewTask task)
    {
        var holder = task.Key is null
            ? null
            : ReadSingleTask(context.Command($"SELECT {Columns} FROM tasks WHERE idempotency_key = $key").Bind("$key", task.Key));
        if (holder is null && task.Schedule is not null && task.ScheduledFor is { } tick)
        {
            holder = ReadSingleTask(context.Command($"SELECT {Columns} FROM tasks WHERE schedule = $schedule AND scheduled_for = $tick")
                .Bind("$schedule", task.Schedule)
                .Bind("$tick", Ms(tick)));
        }

        return holder is null
            ? throw new InvalidOperationException("An insert found its key taken, but no task holds it.")
            : holder with { Existing = true };
    }

    public Task<TaskRecord?> TaskGetAsync(long id, CancellationToken cancellationToken) =>
        ReadAsync(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {Columns} FROM tasks WHERE id = $id";
            return ReadSingleTask(command.Bind("$id", id));
        }, cancellationToken);

    public Task<IReadOnlyList<TaskRecord>> TasksListAsync(TasksListParams parameters, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<TaskRecord>>(connection =>
        {
            if (parameters.States is not { Count: > 0 } states)
            {
                return ListPage(connection, parameters, state: null);
            }

            // One indexed range per state, merged: cheaper than asking SQLite to sort a union of large states.
            return [.. states.Distinct()
                .SelectMany(state => ListPage(connection, parameters, state))
                .OrderByDescending(task => task.Id)
                .Take(parameters.Limit)];
        }, cancellationToken);

    private static List<TaskRecord> ListPage(SqliteConnection connection, TasksListParams parameters, TaskState? state)
    {
        using var command = connection.CreateCommand();
        var where = new List<string>();
        if (state is { } s)
        {
            where.Add("state = $state");
            command.Bind("$state", s.ToWire());
        }

        if (parameters.Type is not null)
        {
            where.Add("type = $type");
            command.Bind("$type", parameters.Type);
        }

        if (parameters.Queue is not null)
        {
            where.Add("queue = $queue");
            command.Bind("$queue", parameters.Queue);
        }

        if (parameters.BeforeId is not null)
        {
            where.Add("id < $before");
            command.Bind("$before", parameters.BeforeId);
        }

        var filter = where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where);
        command.CommandText = $"SELECT {Columns} FROM tasks {filter} ORDER BY id DESC LIMIT $limit";
        command.Bind("$limit", parameters.Limit);
        return ReadTasks(command);
    }

    /// <summary>Walks the (state, id) index over the three unfinished states only: finished rows are never read.</summary>
    public Task<IReadOnlyList<QueueStateCount>> TasksCountUnfinishedAsync(CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<QueueStateCount>>(connection => CountQueueStates(connection,
            $"SELECT queue, state, COUNT(*) FROM tasks WHERE {Unfinished} GROUP BY queue, state"), cancellationToken);

    /// <summary>Runs a query of (queue, state, count) rows.</summary>
    private static List<QueueStateCount> CountQueueStates(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        var counts = new List<QueueStateCount>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            counts.Add(new QueueStateCount(reader.GetString(0), ParseState(reader.GetString(1)), reader.GetInt64(2)));
        }

        return counts;
    }

    // The unary + keeps SQLite off the (state, id) index, which would walk every finished row when none is old
    // enough: the tasks_finished index reads only the rows older than the cutoff.
    public Task<int> TasksDeleteFinishedAsync(TasksDeleteFinishedParams parameters, CancellationToken cancellationToken) =>
        WriteAsync(context =>
        {
            var counts = new FinishedCounts();
            var deleted = 0;
            using (var reader = context.Command("""
                DELETE FROM tasks WHERE id IN (
                    SELECT id FROM tasks
                    WHERE finished_at IS NOT NULL AND finished_at < $before AND +state IN ('succeeded', 'failed', 'cancelled')
                    LIMIT $limit)
                RETURNING queue, state, finished_at
                """)
                .Bind("$before", Ms(parameters.FinishedBefore))
                .Bind("$limit", parameters.Limit)
                .ExecuteReader())
            {
                while (reader.Read())
                {
                    counts.Left(reader.GetString(0), reader.GetString(1), reader.GetInt64(2));
                    deleted++;
                }
            }

            counts.Write(context);
            return deleted;
        }, cancellationToken);

    public Task<IReadOnlyList<TaskRecord>> TasksClaimAsync(TasksClaimParams parameters, CancellationToken cancellationToken) =>
        WriteAsync<IReadOnlyList<TaskRecord>>(context =>
        {
            var now = Ms(parameters.Now);
            context.Command("UPDATE tasks SET state = 'queued' WHERE state = 'scheduled' AND run_at <= $now").Bind("$now", now).ExecuteNonQuery();

            var ids = SelectClaimable(context, parameters);
            if (ids.Count == 0)
            {
                return [];
            }

            var claimed = ReadTasks(context.Command($"""
                UPDATE tasks
                SET state = 'running', attempt = attempt + 1, node = $node, claim_id = $claim,
                    started_at = $now, finished_at = NULL, lease_expires_at = $lease
                WHERE id IN (SELECT value FROM json_each($ids)) AND state = 'queued'
                RETURNING {Columns}
                """)
                .Bind("$node", parameters.Node)
                .Bind("$claim", parameters.ClaimId)
                .Bind("$now", now)
                .Bind("$lease", Ms(parameters.LeaseExpiresAt))
                .Bind("$ids", "[" + string.Join(',', ids) + "]"));

            // RETURNING gives no order: start them in queue order.
            claimed.Sort(static (a, b) =>
                a.Priority != b.Priority ? a.Priority.CompareTo(b.Priority)
                : a.RunAt != b.RunAt ? a.RunAt.CompareTo(b.RunAt)
                : a.Id.CompareTo(b.Id));
            return claimed;
        }, cancellationToken);

    /// <summary>
    /// The first <see cref="TasksClaimParams.Limit"/> queued tasks in (priority, run_at, id) order among the handled
    /// types: one index seek per type, merged.
    /// </summary>
    private static List<long> SelectClaimable(SqliteWriteContext context, TasksClaimParams parameters)
    {
        var candidates = new List<(int Priority, long RunAt, long Id)>();
        foreach (var type in parameters.Types)
        {
            using var reader = context.Command($"""
                SELECT priority, run_at, id FROM tasks INDEXED BY tasks_queued
                WHERE state = 'queued' AND type = $type AND {NotPaused}
                  AND ($any_queue = 1 OR queue IN (SELECT value FROM json_each($queues)))
                  AND queue NOT IN (SELECT value FROM json_each($excluded))
                ORDER BY priority, run_at, id
                LIMIT $limit
                """)
                .Bind("$type", type)
                .Bind("$any_queue", parameters.Queues is null ? 1 : 0)
                .Bind("$queues", QueueList(parameters.Queues))
                .Bind("$excluded", QueueList(parameters.ExcludedQueues))
                .Bind("$limit", parameters.Limit)
                .ExecuteReader();
            while (reader.Read())
            {
                candidates.Add((reader.GetInt32(0), reader.GetInt64(1), reader.GetInt64(2)));
            }
        }

        if (parameters.Types.Count > 1)
        {
            candidates.Sort();
        }

        return [.. candidates.Take(parameters.Limit).Select(c => c.Id)];
    }

    public Task<IReadOnlyList<bool>> TasksCompleteAsync(TasksCompleteParams parameters, CancellationToken cancellationToken) =>
        WriteSettlingAsync<IReadOnlyList<bool>>(context =>
        {
            var applied = new bool[parameters.Completions.Count];
            for (var i = 0; i < applied.Length; i++)
            {
                var completion = parameters.Completions[i];
                try
                {
                    applied[i] = Complete(context, completion, completion.Kind, completion.Error);
                }
                catch (SqliteException exception) when (!SqliteErrors.IsEnvironmental(exception) && context.InTransaction)
                {
                    // This one outcome cannot be stored (a result SQLite refuses, say): record that instead, so that
                    // one bad outcome does not hold back the others forever.
                    applied[i] = Complete(context, completion, CompletionKind.Failed, $"the attempt's outcome could not be stored: {exception.Message}");
                }
            }

            var finished = parameters.Completions.Where((_, i) => applied[i]).Select(c => c.Id).ToList();
            CountCompleted(context, finished);
            return (applied, finished);
        }, parameters.Completions.Count == 0 ? DateTimeOffset.UnixEpoch : parameters.Completions.Max(c => c.At), cancellationToken, durable: parameters.Durable);

    private static bool Complete(SqliteWriteContext context, TaskCompletion completion, CompletionKind kind, string? error) =>
        context.Command(CompletionSql(kind))
            .Bind("$id", completion.Id)
            .Bind("$node", completion.Node)
            .Bind("$claim", completion.ClaimId)
            .Bind("$at", Ms(completion.At))
            .Bind("$result", kind is CompletionKind.Succeeded or CompletionKind.Cancelled ? completion.ResultJson : null)
            .Bind("$error", error)
            .Bind("$run_at", completion.RunAt is { } runAt ? Ms(runAt) : null)
            .Bind("$stack_trace", kind == completion.Kind ? completion.StackTrace : null)
            .ExecuteNonQuery() == 1;

    private const string AppendError =
        "json_insert(COALESCE(errors, '[]'), '$[#]', json_object('attempt', attempt, 'error', $error, 'at', $at, 'stackTrace', $stack_trace))";

    private static string CompletionSql(CompletionKind kind) => kind switch
    {
        CompletionKind.Succeeded => $"""
            UPDATE tasks SET
                state = CASE WHEN stop_requested THEN 'cancelled' ELSE 'succeeded' END,
                finished_at = $at, result = $result,
                error = CASE WHEN stop_requested THEN '{StopErrors.ReturnedAfterStop}' ELSE NULL END,
                lease_expires_at = NULL
            WHERE {Fence}
            """,
        CompletionKind.Retry => $"""
            UPDATE tasks SET
                state = CASE WHEN stop_requested THEN 'cancelled' ELSE 'scheduled' END,
                finished_at = CASE WHEN stop_requested THEN $at ELSE NULL END,
                run_at = $run_at, error = $error, errors = {AppendError}, lease_expires_at = NULL
            WHERE {Fence}
            """,
        CompletionKind.Failed => $"""
            UPDATE tasks SET
                state = CASE WHEN stop_requested THEN 'cancelled' ELSE 'failed' END,
                finished_at = $at, error = $error, errors = {AppendError}, lease_expires_at = NULL
            WHERE {Fence}
            """,
        CompletionKind.Cancelled => $"""
            UPDATE tasks SET state = 'cancelled', finished_at = $at, result = $result, error = $error, lease_expires_at = NULL
            WHERE {Fence}
            """,
        CompletionKind.Released => $"""
            UPDATE tasks SET
                state = CASE WHEN stop_requested THEN 'cancelled' ELSE 'queued' END,
                finished_at = CASE WHEN stop_requested THEN $at ELSE NULL END,
                attempt = CASE WHEN stop_requested THEN attempt ELSE attempt - 1 END,
                error = CASE WHEN stop_requested THEN $error ELSE error END,
                lease_expires_at = NULL
            WHERE {Fence}
            """,
        CompletionKind.Interrupted => $"""
            UPDATE tasks SET
                state = CASE WHEN stop_requested THEN 'cancelled' ELSE 'queued' END,
                finished_at = CASE WHEN stop_requested THEN $at ELSE NULL END,
                attempt = CASE WHEN stop_requested THEN attempt ELSE attempt - 1 END,
                error = $error,
                lease_expires_at = NULL
            WHERE {Fence}
            """,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown completion kind."),
    };

    public Task<TaskCancelResult> TaskCancelAsync(TaskCancelParams parameters, CancellationToken cancellationToken) =>
        WriteSettlingAsync(context => (Cancel(context, parameters), (IEnumerable<long>)[parameters.Id]), parameters.Now, cancellationToken, durable: true);

    private static TaskCancelResult Cancel(SqliteWriteContext context, TaskCancelParams parameters)
    {
        var cancelled = ReadSingleTask(context.Command($"""
                UPDATE tasks SET state = 'cancelled', finished_at = $now, error = 'stopped before it started'
                WHERE id = $id AND {Ready}
                RETURNING {Columns}
                """).Bind("$id", parameters.Id).Bind("$now", Ms(parameters.Now)));
        if (cancelled is not null)
        {
            var counts = new FinishedCounts();
            counts.Entered(cancelled.Queue, cancelled.State.ToWire(), Ms(cancelled.FinishedAt ?? parameters.Now));
            counts.Write(context);
            return new TaskCancelResult(TaskCancelOutcome.Cancelled, cancelled);
        }

        var flagged = ReadSingleTask(context.Command($"""
                UPDATE tasks SET stop_requested = 1 WHERE id = $id AND state = 'running'
                RETURNING {Columns}
                """).Bind("$id", parameters.Id));
        if (flagged is not null)
        {
            return new TaskCancelResult(TaskCancelOutcome.StopRequested, flagged);
        }

        var task = ReadSingleTask(context.Command($"SELECT {Columns} FROM tasks WHERE id = $id").Bind("$id", parameters.Id));
        return task switch
        {
            null => new TaskCancelResult(TaskCancelOutcome.NotFound, null),
            { State: TaskState.Cancelled } => new TaskCancelResult(TaskCancelOutcome.AlreadyCancelled, task),
            _ => new TaskCancelResult(TaskCancelOutcome.AlreadyFinished, task),
        };
    }

    /// <summary>A task with parents goes back to awaiting and is settled against them as they are now, in the same transaction.</summary>
    public async Task<TaskRetryResult> TaskRetryAsync(TaskRetryParams parameters, CancellationToken cancellationToken)
    {
        var released = 0;
        var result = await WriteAsync(context =>
        {
            // The state it leaves, for the counters (this writer is the only one: nothing changes it in between).
            var before = ReadSingleTask(context.Command($"SELECT {Columns} FROM tasks WHERE id = $id").Bind("$id", parameters.Id));
            var queued = ReadSingleTask(context.Command($"""
                UPDATE tasks SET state = CASE WHEN EXISTS (SELECT 1 FROM task_parents WHERE child_id = $id) THEN 'awaiting' ELSE 'queued' END, attempt = 0, run_at = $now, started_at = NULL, finished_at = NULL,
                    result = NULL, error = NULL, stop_requested = 0, claim_id = NULL, lease_expires_at = NULL
                WHERE id = $id AND state IN ('failed', 'cancelled')
                RETURNING {Columns}
                """).Bind("$id", parameters.Id).Bind("$now", Ms(parameters.Now)));
            if (queued is not null)
            {
                var counts = new FinishedCounts();
                counts.Left(before!.Queue, before.State.ToWire(), before.FinishedAt is { } finished ? Ms(finished) : null);
                if (queued.State == TaskState.Awaiting)
                {
                    released += Settle(context, [queued.Id], Ms(parameters.Now), counts);
                    queued = ReadSingleTask(context.Command($"SELECT {Columns} FROM tasks WHERE id = $id").Bind("$id", parameters.Id))!;
                }

                counts.Write(context);
                return new TaskRetryResult(RetryOutcome.Queued, queued);
            }

            return new TaskRetryResult(before is null ? RetryOutcome.NotFound : RetryOutcome.NotRetryable, before);
        }, cancellationToken, durable: true).ConfigureAwait(false);
        Released(released);
        return result;
    }

    public Task<IReadOnlyList<RescuedTask>> TasksRescueAsync(TasksRescueParams parameters, CancellationToken cancellationToken) =>
        WriteSettlingAsync<IReadOnlyList<RescuedTask>>(context =>
        {
            var rescued = new List<RescuedTask>();
            var counts = new FinishedCounts();
            using (var reader = context.Command("""
                UPDATE tasks SET
                    state = CASE WHEN stop_requested THEN 'cancelled' WHEN attempt >= max_attempts THEN 'failed' ELSE 'queued' END,
                    finished_at = CASE WHEN stop_requested OR attempt >= max_attempts THEN $now ELSE NULL END,
                    error = CASE WHEN stop_requested THEN 'stopped; its node was lost while it ran'
                                 ELSE 'interrupted: node ' || COALESCE(node, '?') || ' was lost while it ran' END,
                    errors = CASE WHEN stop_requested THEN errors
                                  ELSE json_insert(COALESCE(errors, '[]'), '$[#]', json_object(
                                      'attempt', attempt, 'error', 'interrupted: node ' || COALESCE(node, '?') || ' was lost while it ran', 'at', $now)) END,
                    lease_expires_at = NULL
                WHERE id IN (
                    SELECT id FROM tasks
                    WHERE state = 'running' AND node NOT GLOB 'worker:*' AND ($all_running = 1 OR node = $all_of_node
                           OR ((node <> $rescuer OR ($held IS NOT NULL AND id NOT IN (SELECT value FROM json_each($held)))) AND lease_expires_at < $now))
                    LIMIT $limit)
                RETURNING id, node, state, queue
                """)
                .Bind("$now", Ms(parameters.Now))
                .Bind("$rescuer", parameters.Rescuer)
                .Bind("$all_running", parameters.AllRunning ? 1 : 0)
                .Bind("$all_of_node", parameters.AllOfNode)
                .Bind("$held", parameters.Held is null ? null : JsonIds(parameters.Held))
                .Bind("$limit", parameters.Limit)
                .ExecuteReader())
            {
                while (reader.Read())
                {
                    rescued.Add(new RescuedTask(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1), ParseState(reader.GetString(2))));
                    counts.Entered(reader.GetString(3), reader.GetString(2), Ms(parameters.Now));
                }
            }

            counts.Write(context);
            return (rescued, rescued.Where(r => r.NewState.IsFinal()).Select(r => r.Id));
        }, parameters.Now, cancellationToken);

    public Task<IReadOnlyList<long>> TasksStopRequestedAsync(TasksStopRequestedParams parameters, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<long>>(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT id FROM tasks WHERE state = 'running' AND node = $node AND stop_requested = 1";
            command.Bind("$node", parameters.Node);
            var ids = new List<long>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                ids.Add(reader.GetInt64(0));
            }

            return ids;
        }, cancellationToken);

    public Task<bool> NodeStartAsync(NodeStartParams parameters, CancellationToken cancellationToken) =>
        WriteAsync(context => context.Command("""
            INSERT INTO nodes (name, started_at, heartbeat_at, concurrency, busy) VALUES ($node, $now, $now, $concurrency, 0)
            ON CONFLICT (name) DO UPDATE SET
                started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, concurrency = excluded.concurrency, busy = 0
            WHERE nodes.heartbeat_at < $stale_before
            """)
            .Bind("$node", parameters.Node)
            .Bind("$now", Ms(parameters.Now))
            .Bind("$stale_before", Ms(parameters.StaleBefore))
            .Bind("$concurrency", parameters.Concurrency)
            .ExecuteNonQuery() == 1, cancellationToken, singleStatement: true);

    public Task<IReadOnlyList<long>> NodeHeartbeatAsync(NodeHeartbeatParams parameters, CancellationToken cancellationToken) =>
        WriteAsync<IReadOnlyList<long>>(context =>
        {
            var renewed = new List<long>(parameters.Held.Count);
            if (parameters.Held.Count > 0)
            {
                // Only the attempts the node holds, each under its own claim: a row it no longer holds expires.
                using var reader = context.Command("""
                    UPDATE tasks SET lease_expires_at = $lease
                    FROM (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS claim FROM json_each($held)) AS held
                    WHERE tasks.id = held.id AND tasks.claim_id = held.claim AND tasks.state = 'running' AND tasks.node = $node
                    RETURNING tasks.id
                    """)
                    .Bind("$lease", Ms(parameters.LeaseExpiresAt))
                    .Bind("$node", parameters.Node)
                    .Bind("$held", "[" + string.Join(',', parameters.Held.Select(h => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"[{h.Id},{h.ClaimId}]"))) + "]")
                    .ExecuteReader();
                while (reader.Read())
                {
                    renewed.Add(reader.GetInt64(0));
                }
            }

            context.Command("""
                INSERT INTO nodes (name, started_at, heartbeat_at, concurrency, busy) VALUES ($node, $started, $now, $concurrency, $busy)
                ON CONFLICT (name) DO UPDATE SET
                    started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at,
                    concurrency = excluded.concurrency, busy = excluded.busy
                """)
                .Bind("$node", parameters.Node)
                .Bind("$started", Ms(parameters.StartedAt))
                .Bind("$now", Ms(parameters.Now))
                .Bind("$concurrency", parameters.Concurrency)
                .Bind("$busy", parameters.Busy)
                .ExecuteNonQuery();
            return renewed;
        }, cancellationToken);

    public Task NodeRemoveAsync(string node, CancellationToken cancellationToken) =>
        WriteAsync(context => context.Command("DELETE FROM nodes WHERE name = $node").Bind("$node", node).ExecuteNonQuery(),
            cancellationToken, singleStatement: true);

    public Task<IReadOnlyList<NodeRecord>> NodesListAsync(CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<NodeRecord>>(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT name, started_at, heartbeat_at, concurrency, busy FROM nodes ORDER BY heartbeat_at DESC";
            var nodes = new List<NodeRecord>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                nodes.Add(new NodeRecord(reader.GetString(0), Time(reader.GetInt64(1)), Time(reader.GetInt64(2)), reader.GetInt32(3), reader.GetInt32(4)));
            }

            return nodes;
        }, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _openLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (_writer is not null)
            {
                await _writer.DisposeAsync().ConfigureAwait(false);
            }

            // Pooled readers keep the file open; release them so the file (and its lock) can go.
            SqliteConnection.ClearPool(new SqliteConnection(_readConnectionString));
            _fileLock?.Dispose();
        }
        finally
        {
            _openLock.Release();
        }
    }
}
