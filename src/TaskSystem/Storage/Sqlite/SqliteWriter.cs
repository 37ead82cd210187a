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
internal sealed class SqliteWriter : IAsyncDisposable
{
    /// <summary>Bounds one transaction so that a flood of writes still commits, and answers, in steady steps.</summary>
    private const int MaxOperationsPerCommit = 512;

    private readonly Channel<SqliteWriteOp> _queue = Channel.CreateUnbounded<SqliteWriteOp>(
        new UnboundedChannelOptions { SingleReader = true });

    private readonly Func<SqliteConnection> _open;
    private readonly ILogger _logger;
    private readonly Task _loop;
    private SqliteConnection _connection;
    private SqliteWriteContext _context;
    private bool _fullSync = true;

    /// <param name="open">Opens the writer connection with its pragmas (synchronous = FULL); used again if it wedges.</param>
    /// <param name="logger">Where failed batches are logged.</param>
    public SqliteWriter(Func<SqliteConnection> open, ILogger logger)
    {
        _open = open;
        _connection = open();
        _context = new SqliteWriteContext(_connection);
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    public Task<T> WriteAsync<T>(Func<SqliteWriteContext, T> work, bool singleStatement, bool durable)
    {
        var operation = new SqliteWriteOp<T>(work, singleStatement, durable);
        if (!_queue.Writer.TryWrite(operation))
        {
            throw new ObjectDisposedException(nameof(SqliteWriter), "The SQLite store is closed.");
        }

        return operation.Task;
    }

    private async Task RunAsync()
    {
        var batch = new List<SqliteWriteOp>(MaxOperationsPerCommit);
        var lastDurableBatch = 0;
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxOperationsPerCommit && _queue.Reader.TryRead(out var operation))
            {
                batch.Add(operation);
            }

            if (batch.Exists(operation => operation.Durable))
            {
                if (batch.Count < lastDurableBatch / 2)
                {
                    Gather(batch, lastDurableBatch);
                }

                lastDurableBatch = batch.Count;
            }

            Commit(batch);
            foreach (var operation in batch)
            {
                operation.Publish();
            }

            batch.Clear();
        }
    }

    /// <summary>
    /// The callers answered by the last fsync'd commit are coming back with their next writes: wait a few tens of
    /// microseconds for them, so that they share the next fsync instead of paying one each (group commit).
    /// </summary>
    private void Gather(List<SqliteWriteOp> batch, int expected)
    {
        var until = System.Diagnostics.Stopwatch.GetTimestamp() + (System.Diagnostics.Stopwatch.Frequency * GatherMicroseconds / 1_000_000);
        var spinner = new SpinWait();
        while (batch.Count < expected && batch.Count < MaxOperationsPerCommit && System.Diagnostics.Stopwatch.GetTimestamp() < until)
        {
            if (_queue.Reader.TryRead(out var operation))
            {
                batch.Add(operation);
            }
            else
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }
        }
    }

    /// <summary>Far below an fsync (about 130 µs on the disks measured), so it costs a lone caller nothing noticeable.</summary>
    private const int GatherMicroseconds = 200;

    private void Commit(List<SqliteWriteOp> batch)
    {
        try
        {
            SetSynchronous(batch.Exists(operation => operation.Durable));

            // Transactions are plain prepared statements: this connection is the writer's alone, and BEGIN/COMMIT
            // through SqliteTransaction would be parsed again for every batch.
            Exec("BEGIN IMMEDIATE");
            foreach (var operation in batch)
            {
                if (!Run(operation))
                {
                    // SQLite rolled the whole transaction back (disk full, I/O error): what ran is gone,
                    // and what follows must not run outside a transaction.
                    throw new SqliteException("The transaction was rolled back by SQLite after an error.", 1);
                }
            }

            Exec("COMMIT");
        }
        catch (Exception exception)
        {
            Log.StoreBatchFailed(_logger, batch.Count, exception);
            TryRollback();
            var forCaller = SqliteErrors.ForCaller(exception);
            foreach (var operation in batch)
            {
                operation.MarkFailed(forCaller);
            }
        }
    }

    /// <summary>Runs one operation; false when its failure ended the whole transaction.</summary>
    private bool Run(SqliteWriteOp operation)
    {
        if (operation.SingleStatement)
        {
            try
            {
                operation.Execute(_context);
            }
            catch (Exception exception)
            {
                operation.MarkFailed(SqliteErrors.ForCaller(exception));
                return _context.InTransaction;
            }

            return true;
        }

        Exec("SAVEPOINT op");
        try
        {
            operation.Execute(_context);
            Exec("RELEASE op");
        }
        catch (Exception exception)
        {
            operation.MarkFailed(SqliteErrors.ForCaller(exception));
            if (!_context.InTransaction)
            {
                return false;
            }

            Exec("ROLLBACK TO op");
            Exec("RELEASE op");
        }

        return true;
    }

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

    private void Exec(string sql) => _context.Command(sql).ExecuteNonQuery();

    private void TryRollback()
    {
        if (!_context.InTransaction)
        {
            return;
        }

        try
        {
            Exec("ROLLBACK");
        }
        catch (SqliteException)
        {
            // Checked below.
        }

        if (_context.InTransaction)
        {
            // Still inside a transaction that cannot be rolled back: every later BEGIN would fail. Start afresh;
            // closing the connection rolls the transaction back.
            Reopen();
        }
    }

    private void Reopen()
    {
        _context.Dispose();
        _connection.Dispose();
        _connection = _open();
        _context = new SqliteWriteContext(_connection);
        _fullSync = true;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        _context.Dispose();
        await _connection.DisposeAsync().ConfigureAwait(false);
    }
}
