using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using TaskSystem.Diagnostics;

namespace TaskSystem.Storage.Sqlite;

/// <summary>
/// The single writer of the database. SQLite allows one writer at a time, so instead of letting connections
/// fight for the lock, every write is queued here and the loop runs whatever has queued up in one transaction:
/// one fsync answers many callers (group commit), and nobody is answered before that commit.
/// </summary>
/// <remarks>
/// The loop never stops while the store is open: whatever fails, every caller of a batch is answered (with its own
/// error, or a <see cref="TaskStoreUnavailableException"/> when the batch failed as a whole), a connection left in an
/// unknown state is closed and opened again (at the next batch if it cannot be now), and the next batch runs.
/// Between batches it keeps the WAL small (<see cref="SqliteWal"/>).
/// </remarks>
internal sealed class SqliteWriter : IAsyncDisposable
{
    /// <summary>Bounds one transaction so that a flood of writes still commits, and answers, in steady steps.</summary>
    private const int MaxOperationsPerCommit = 512;

    /// <summary>After this long without a write, the WAL is checkpointed and truncated.</summary>
    public static readonly TimeSpan IdleCheckpointDelay = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// After a failed write, the WAL is checkpointed again at least this often until it works (and the connection
    /// reopened, if it had to be closed): once space is freed, writes resume within about this long.
    /// </summary>
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long a checkpoint waits for readers on older snapshots: short, so that it never holds up writes.</summary>
    private const int CheckpointBusyTimeoutMs = 50;

    private readonly Channel<SqliteWriteOp> _queue = Channel.CreateUnbounded<SqliteWriteOp>(
        new UnboundedChannelOptions { SingleReader = true });

    private readonly Func<SqliteConnection> _open;
    private readonly SqliteVolume _volume;
    private readonly WriteHealth _health;
    private readonly ILogger _logger;
    private readonly SqliteCommitMetrics? _metrics;
    private readonly Task _loop;
    private SqliteConnection? _connection;
    private SqliteWriteContext? _context;
    private bool _fullSync = true;
    private bool _changedSinceCheckpoint;
    private bool _checkpointDue;
    private int _failedCheckpoints;
    private bool _refusingNewTasks;
    private long _lastCheckpointAttempt;

    /// <param name="open">Opens the writer connection with its pragmas (synchronous = FULL); used again if it wedges.</param>
    /// <param name="volume">Sizes the WAL and the space new tasks must leave free.</param>
    /// <param name="health">Told of every failed commit and checkpoint.</param>
    /// <param name="logger">Where failed batches are logged.</param>
    /// <param name="metrics">Told of every commit, if given.</param>
    public SqliteWriter(Func<SqliteConnection> open, SqliteVolume volume, WriteHealth health, ILogger logger, SqliteCommitMetrics? metrics = null)
    {
        _metrics = metrics;
        _open = open;
        _volume = volume;
        _health = health;
        _logger = logger;
        Open();
        _loop = Task.Run(RunAsync);
    }

    /// <summary>
    /// Fault injection for tests of the failure paths no real fault reaches (a ROLLBACK that fails): called with each
    /// statement the writer runs itself (BEGIN IMMEDIATE, COMMIT, ROLLBACK, SAVEPOINT...); what it throws stands for
    /// that statement's failure.
    /// </summary>
    internal Action<string>? BeforeOwnStatement { get; set; }

    /// <summary>Queues a write; the task completes once its transaction committed (or failed).</summary>
    /// <param name="work">The write. It may run twice: when its transaction is undone and run again, only the last run counts.</param>
    /// <param name="singleStatement">It runs one statement, atomic by itself, so no savepoint is needed around it.</param>
    /// <param name="durable">Its commit must be fsync'd before the caller is answered.</param>
    /// <param name="grows">It adds tasks: refused while the volume has no room left above the store's reserve.</param>
    public Task<T> WriteAsync<T>(Func<SqliteWriteContext, T> work, bool singleStatement, bool durable, bool grows = false)
    {
        var operation = new SqliteWriteOp<T>(work, singleStatement, durable, grows);
        Interlocked.Increment(ref _queued);
        if (!_queue.Writer.TryWrite(operation))
        {
            throw new ObjectDisposedException(nameof(SqliteWriter), "The SQLite store is closed.");
        }

        return operation.Task;
    }

    /// <summary>Writes queued and not taken yet (the single-reader channel cannot count them itself).</summary>
    private int _queued;

    private bool TryTake([NotNullWhen(true)] out SqliteWriteOp? operation)
    {
        if (!_queue.Reader.TryRead(out operation))
        {
            return false;
        }

        Interlocked.Decrement(ref _queued);
        return true;
    }

    private SqliteWriteContext Context => _context ?? throw new InvalidOperationException("The writer's connection is closed.");

    private async Task RunAsync()
    {
        var batch = new List<SqliteWriteOp>(MaxOperationsPerCommit);
        var expected = 0;
        while (await WaitForWorkAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxOperationsPerCommit && TryTake(out var operation))
            {
                batch.Add(operation);
            }

            var durable = batch.Exists(operation => operation.Durable);
            if (durable && batch.Count < expected && expected > MinGatheredCallers)
            {
                Gather(batch, expected);
            }

            RunBatch(batch);
            if (durable)
            {
                // Who writes next: the callers this fsync answered (they come back with their next writes) and those
                // that queued while it ran. Waiting for all of them lets one fsync serve every concurrent caller.
                expected = Math.Min(MaxOperationsPerCommit, batch.Count + Volatile.Read(ref _queued));
            }

            batch.Clear();
        }
    }

    /// <summary>Waits for writes; while none come, does the WAL's upkeep. False once the writer is closed.</summary>
    private async ValueTask<bool> WaitForWorkAsync()
    {
        while (true)
        {
            var retrying = _checkpointDue || _refusingNewTasks;
            if (!(retrying || _changedSinceCheckpoint) || _queue.Reader.TryPeek(out _))
            {
                return await _queue.Reader.WaitToReadAsync().ConfigureAwait(false);
            }

            using var idle = new CancellationTokenSource(retrying ? RetryInterval : IdleCheckpointDelay);
            try
            {
                return await _queue.Reader.WaitToReadAsync(idle.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (idle.IsCancellationRequested)
            {
                Upkeep();
            }
        }
    }

    /// <summary>
    /// While no write comes: checkpoint the WAL (after writes, or again after a failure), and while new tasks are
    /// refused, measure the room again (readiness stays honest on an idle node, and the log says when room is back).
    /// Never throws.
    /// </summary>
    private void Upkeep()
    {
        try
        {
            if (!EnsureOpen(out _))
            {
                return;
            }

            if (_refusingNewTasks)
            {
                CheckRoomForNewTasks();
            }

            if (_checkpointDue || _changedSinceCheckpoint)
            {
                Checkpoint();
            }
        }
        catch (Exception exception)
        {
            SqliteLog.WriterFailed(_logger, 0, exception);
            _health.Failed(exception);
        }
    }

    /// <summary>
    /// The callers answered by the last fsync'd commit are coming back with their next writes: wait a few tens of
    /// microseconds for them, so that they share the next fsync instead of paying one each (group commit).
    /// </summary>
    private void Gather(List<SqliteWriteOp> batch, int expected)
    {
        var until = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * GatherMicroseconds / 1_000_000);
        var spinner = new SpinWait();
        while (batch.Count < expected && batch.Count < MaxOperationsPerCommit && Stopwatch.GetTimestamp() < until)
        {
            if (TryTake(out var operation))
            {
                batch.Add(operation);
            }
            else
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }
        }
    }

    /// <summary>
    /// With this few writers, waiting is not worth it: a lone caller, or one beside the dispatcher's claims, would wait
    /// for a write that is not coming.
    /// </summary>
    private const int MinGatheredCallers = 2;

    /// <summary>Far below an fsync (about 130 µs on the disks measured), so it costs a lone caller nothing noticeable.</summary>
    private const int GatherMicroseconds = 200;

    /// <summary>Commits a batch and answers its callers. Never throws: the loop must outlive any failure.</summary>
    private void RunBatch(List<SqliteWriteOp> batch)
    {
        try
        {
            if (!EnsureOpen(out var closed))
            {
                Fail(batch, closed);
                return;
            }

            if (_checkpointDue && Stopwatch.GetElapsedTime(_lastCheckpointAttempt) >= RetryInterval)
            {
                // After a failure (a full disk, say) the WAL is emptied before anything else is written: once space
                // is freed, this takes the WAL's space back before new writes could use up what was freed.
                Checkpoint();
            }

            var admitted = RefuseNewTasksWithoutRoom(batch);
            if (admitted.Count > 0)
            {
                Commit(admitted);
            }
        }
        catch (Exception exception)
        {
            // The last guard: an exception leaving the loop would leave this batch and every later write waiting forever.
            SqliteLog.WriterFailed(_logger, batch.Count, exception);
            Fail(batch, exception);
            Discard();
        }
        finally
        {
            foreach (var operation in batch)
            {
                operation.Publish();
            }
        }
    }

    /// <summary>
    /// New tasks are refused (503) while the volume has no room left above the reserve; the other writes (claims,
    /// outcomes, stops, retention) go on, using the reserve. Measured once per batch that adds tasks.
    /// </summary>
    private List<SqliteWriteOp> RefuseNewTasksWithoutRoom(List<SqliteWriteOp> batch)
    {
        if (!batch.Exists(operation => operation.Grows) || CheckRoomForNewTasks() is not { } refused)
        {
            return batch;
        }

        foreach (var operation in batch)
        {
            if (operation.Grows)
            {
                operation.MarkFailed(refused);
            }
        }

        return batch.FindAll(operation => !operation.Grows);
    }

    /// <summary>Null when new tasks fit; otherwise why not (and readiness is told). Logs when that changes.</summary>
    private TaskStoreUnavailableException? CheckRoomForNewTasks()
    {
        if (_volume.WhyNoRoomForNewTasks(Pragma("PRAGMA freelist_count"), Pragma("PRAGMA page_size")) is not { } why)
        {
            if (_refusingNewTasks)
            {
                SqliteLog.NewTasksAccepted(_logger);
                _refusingNewTasks = false;
            }

            return null;
        }

        if (!_refusingNewTasks)
        {
            SqliteLog.NewTasksRefused(_logger, why);
            _refusingNewTasks = true;
        }

        var refused = new TaskStoreUnavailableException(why);
        _health.Failed(refused);
        return refused;
    }

    private long Pragma(string sql) => Convert.ToInt64(Context.Command(sql).ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);

    private void Commit(List<SqliteWriteOp> batch)
    {
        var changesBefore = TotalChanges();
        Exception? environmental = null;
        try
        {
            SetSynchronous(batch.Exists(operation => operation.Durable));

            // Transactions are plain prepared statements: this connection is the writer's alone, and BEGIN/COMMIT
            // through SqliteTransaction would be parsed again for every batch.
            Exec("BEGIN IMMEDIATE");
            if (RunAll(batch, skip: null, ref environmental) is { } failedAfterChanges)
            {
                // Its statement's changes are in the transaction while its caller is told it failed. Undo everything
                // and run the others again, each in a savepoint this time: what commits is what callers are told.
                Exec("ROLLBACK");
                Exec("BEGIN IMMEDIATE");
                environmental = null;
                foreach (var operation in batch)
                {
                    if (!ReferenceEquals(operation, failedAfterChanges))
                    {
                        operation.Reset();
                    }
                }

                RunAll(batch, skip: failedAfterChanges, ref environmental);
            }

            Exec("COMMIT");
        }
        catch (Exception exception)
        {
            Log.StoreBatchFailed(_logger, batch.Count, exception);
            Abandon();
            Fail(batch, exception);
            return;
        }

        // After the try: the batch is committed, so nothing a listener of the counters throws may fail its callers.
        _metrics?.Committed(batch.Count, _fullSync);
        _changedSinceCheckpoint |= TotalChanges() != changesBefore;
        if (environmental is not null)
        {
            // One operation could not be written (SQLITE_FULL on an insert, say) while the rest committed.
            _health.Failed(environmental);
            _checkpointDue = true;
        }
    }

    /// <summary>
    /// Runs each operation but <paramref name="skip"/>; with a <paramref name="skip"/>, every one in a savepoint.
    /// Returns the single-statement operation that failed after its statement changed rows (the rest not run), if any.
    /// Throws when a failure ended the whole transaction.
    /// </summary>
    private SqliteWriteOp? RunAll(List<SqliteWriteOp> batch, SqliteWriteOp? skip, ref Exception? environmental)
    {
        foreach (var operation in batch)
        {
            if (ReferenceEquals(operation, skip))
            {
                continue;
            }

            var savepoint = skip is not null || !operation.SingleStatement;
            var changesBefore = TotalChanges();
            if (savepoint)
            {
                Exec("SAVEPOINT op");
            }

            try
            {
                operation.Execute(Context);
                if (savepoint)
                {
                    Exec("RELEASE op");
                }
            }
            catch (Exception exception)
            {
                operation.MarkFailed(SqliteErrors.ForCaller(exception));
                if (SqliteErrors.IsEnvironmental(exception))
                {
                    environmental ??= exception;
                }

                if (!Context.InTransaction)
                {
                    // SQLite rolled the whole transaction back (disk full, I/O error): what ran is gone, and what
                    // follows must not run outside a transaction.
                    throw new TaskStoreUnavailableException($"SQLite rolled the transaction back after an error: {exception.Message}", exception);
                }

                if (savepoint)
                {
                    Exec("ROLLBACK TO op");
                    Exec("RELEASE op");
                }
                else if (TotalChanges() != changesBefore)
                {
                    // A single statement is atomic, but the work around it can throw after it ran (reading its
                    // RETURNING rows, say): its changes stayed.
                    SqliteLog.OperationFailedAfterChanges(_logger, exception);
                    return operation;
                }
            }
        }

        return null;
    }

    /// <summary>Rows changed on this connection since it opened: tells whether a statement that threw had changed any.</summary>
    private int TotalChanges() => SQLitePCL.raw.sqlite3_total_changes(Context.Connection.Handle);

    /// <summary>
    /// FULL fsyncs the WAL at commit; NORMAL leaves it to the OS (safe against a process crash, not a power cut).
    /// WAL frames are written in order, so a FULL commit also makes every earlier NORMAL commit durable.
    /// The setting cannot change inside a transaction, so it is chosen per batch.
    /// </summary>
    private void SetSynchronous(bool full)
    {
        if (full != _fullSync)
        {
            Exec(full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
            _fullSync = full;
        }
    }

    private void Exec(string sql)
    {
        BeforeOwnStatement?.Invoke(sql);
        Context.Command(sql).ExecuteNonQuery();
    }

    /// <summary>Answers every caller of a failed batch that has no error of its own with "unavailable" (HTTP 503).</summary>
    private void Fail(List<SqliteWriteOp> batch, Exception exception)
    {
        var forCaller = SqliteErrors.Unavailable(exception);
        foreach (var operation in batch)
        {
            operation.MarkFailed(forCaller);
        }

        _health.Failed(exception);
        _checkpointDue = true;
    }

    /// <summary>
    /// After a failed batch: roll back. When that fails and the transaction is still open (or its state cannot be
    /// read), close the connection, which rolls it back, and open another (or at the next batch, if that fails too).
    /// </summary>
    private void Abandon()
    {
        try
        {
            if (Context.InTransaction)
            {
                Exec("ROLLBACK");
            }

            if (!Context.InTransaction)
            {
                return;
            }
        }
        catch (Exception exception) when (exception is SqliteException or InvalidOperationException or ObjectDisposedException)
        {
            // The connection is in no state to trust: replaced below.
        }

        Discard();
        EnsureOpen(out _);
    }

    /// <summary>True when the connection is open, reopening it if a failure closed it; otherwise why not.</summary>
    private bool EnsureOpen([System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out Exception? failure)
    {
        failure = null;
        if (_connection is not null)
        {
            return true;
        }

        try
        {
            Open();
            SqliteLog.Reopened(_logger);
            return true;
        }
        catch (Exception exception)
        {
            SqliteLog.ReopenFailed(_logger, exception);
            failure = exception;
            _checkpointDue = true;
            return false;
        }
    }

    private void Open()
    {
        var connection = _open();
        try
        {
            SqliteWal.ApplyBudget(connection, _volume.WalBudgetBytes);
        }
        catch
        {
            connection.Dispose();
            throw;
        }

        _connection = connection;
        _context = new SqliteWriteContext(connection);
        _fullSync = true;
    }

    /// <summary>Closes the connection (rolling back any transaction it holds); nothing in it is worth saving.</summary>
    private void Discard()
    {
        var (context, connection) = (_context, _connection);
        _context = null;
        _connection = null;
        try
        {
            context?.Dispose();
            connection?.Dispose();
        }
        catch (Exception exception) when (exception is SqliteException or InvalidOperationException or ObjectDisposedException)
        {
            // Closing a broken connection: the next one is opened from scratch.
        }
    }

    /// <summary>Empties the WAL into the database and cuts its file to zero; on failure, tried again later. Never throws.</summary>
    private void Checkpoint()
    {
        _lastCheckpointAttempt = Stopwatch.GetTimestamp();
        try
        {
            BeforeOwnStatement?.Invoke("PRAGMA wal_checkpoint(TRUNCATE)");
            if (!SqliteWal.TryTruncate(Context.Connection, CheckpointBusyTimeoutMs))
            {
                // Readers on older snapshots: tried again at the next pause.
                return;
            }

            if (_failedCheckpoints > 0)
            {
                SqliteLog.CheckpointRecovered(_logger, _failedCheckpoints);
            }

            _failedCheckpoints = 0;
            _checkpointDue = false;
            _changedSinceCheckpoint = false;
        }
        catch (Exception exception)
        {
            if (_failedCheckpoints++ == 0)
            {
                SqliteLog.CheckpointFailed(_logger, RetryInterval, exception);
            }

            // Retried every second while it fails: on an idle node, this keeps readiness honest between heartbeats.
            _health.Failed(exception);
            _checkpointDue = true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        Discard();
    }
}
