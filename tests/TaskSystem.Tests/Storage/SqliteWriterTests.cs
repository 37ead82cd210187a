using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using TaskSystem.Storage;
using TaskSystem.Storage.Sqlite;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Storage;

/// <summary>
/// The SQLite writer's failure paths, on a real database file: whatever fails, each caller is told the truth about its
/// own write, what commits is exactly what callers were told committed, and the writer goes on serving.
/// </summary>
public sealed class SqliteWriterTests : IAsyncLifetime
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(10);
    private readonly TempDirectory _directory = new();
    private readonly WriteHealth _health = new(TimeProvider.System);
    private SqliteWriter _writer = null!;
    private volatile bool _opensFail;
    private int _failedOpens;

    private string DatabasePath => _directory.File("writer.db");

    public Task InitializeAsync()
    {
        using (var connection = Open())
        {
            Execute(connection, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)");
        }

        _writer = new SqliteWriter(Open, new SqliteVolume(DatabasePath), _health, NullLogger.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _writer.DisposeAsync();
        SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    [Fact]
    public async Task Operation_ThrowingAfterItsFirstStatement_IsUndoneByItsSavepoint_AndTheRestOfTheBatchCommits()
    {
        var (throwing, other) = await InOneBatchAsync(
            () => _writer.WriteAsync<int>(c => { Insert(c, "undone"); throw new InvalidOperationException("handler bug"); }, singleStatement: false, durable: true),
            () => _writer.WriteAsync(c => Insert(c, "kept"), singleStatement: false, durable: true));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => throwing);
        Assert.Equal("handler bug", error.Message);
        Assert.Equal(1, await other);
        Assert.Equal(["kept"], Rows());
        Assert.True(_health.Check().CanWrite, "one operation's own bug is not a store failure");
    }

    [Fact]
    public async Task SingleStatementOperation_ThrowingAfterItsStatementRan_IsUndone_AndTheOthersCommit()
    {
        // A single statement needs no savepoint, but the work around it can throw after it ran (reading its RETURNING
        // rows, say): its caller is told it failed, so its row must not commit with the others.
        var (throwing, single, multi) = await InOneBatchAsync(
            () => _writer.WriteAsync<int>(c => { Insert(c, "told failed"); throw new FormatException("cannot read the row back"); }, singleStatement: true, durable: true),
            () => _writer.WriteAsync(c => Insert(c, "single"), singleStatement: true, durable: true),
            () => _writer.WriteAsync(c => Insert(c, "multi"), singleStatement: false, durable: true));

        await Assert.ThrowsAsync<FormatException>(() => throwing);
        Assert.Equal((1, 1), (await single, await multi));
        Assert.Equal(["multi", "single"], Rows());
    }

    [Fact]
    public async Task SingleStatementOperation_WhoseStatementFails_FailsAlone()
    {
        await _writer.WriteAsync(c => Insert(c, "same"), singleStatement: true, durable: false);

        var (duplicate, other) = await InOneBatchAsync(
            () => _writer.WriteAsync(c => Insert(c, "same"), singleStatement: true, durable: false),
            () => _writer.WriteAsync(c => Insert(c, "other"), singleStatement: true, durable: false));

        var error = await Assert.ThrowsAsync<SqliteException>(() => duplicate);
        Assert.Equal(19, error.SqliteErrorCode); // SQLITE_CONSTRAINT: the caller's own error, not a 503
        Assert.Equal(1, await other);
        Assert.Equal(["other", "same"], Rows());
    }

    [Fact]
    public async Task FailedBegin_AnswersEveryCallerUnavailable_AndTheNextWriteCommits()
    {
        Task<int> first, second;
        using (var holder = Open())
        {
            // Another process holds the write lock past the writer's busy timeout: BEGIN IMMEDIATE fails (SQLITE_BUSY).
            Execute(holder, "BEGIN IMMEDIATE");
            first = _writer.WriteAsync(c => Insert(c, "a"), singleStatement: true, durable: true);
            second = _writer.WriteAsync(c => Insert(c, "b"), singleStatement: false, durable: true);

            await Assert.ThrowsAsync<TaskStoreUnavailableException>(() => first.WaitAsync(Answer));
            await Assert.ThrowsAsync<TaskStoreUnavailableException>(() => second.WaitAsync(Answer));
            Assert.False(_health.Check().CanWrite);
            Execute(holder, "ROLLBACK");
        }

        Assert.Equal(1, await _writer.WriteAsync(c => Insert(c, "after"), singleStatement: true, durable: true).WaitAsync(Answer));
        Assert.Equal(["after"], Rows());
    }

    [Fact]
    public async Task FailedRollback_ThenFailedReopens_AnswerCallersUnavailable_AndALaterWriteReopensAndCommits()
    {
        // No real fault makes ROLLBACK fail, so it is injected: COMMIT fails, ROLLBACK fails and leaves the transaction
        // open, so the writer must close its connection and open another; and opening fails until the test allows it.
        var failing = 1;
        _writer.BeforeOwnStatement = sql =>
        {
            if (Volatile.Read(ref failing) == 1 && sql is "COMMIT" or "ROLLBACK")
            {
                throw new SqliteException("disk I/O error", 10);
            }
        };
        _opensFail = true;

        var first = _writer.WriteAsync(c => Insert(c, "rolled back"), singleStatement: true, durable: true);
        await Assert.ThrowsAsync<TaskStoreUnavailableException>(() => first.WaitAsync(Answer));
        Volatile.Write(ref failing, 0);
        var second = _writer.WriteAsync(c => Insert(c, "while closed"), singleStatement: true, durable: true);
        await Assert.ThrowsAsync<TaskStoreUnavailableException>(() => second.WaitAsync(Answer));
        Assert.InRange(Volatile.Read(ref _failedOpens), 2, int.MaxValue);
        Assert.False(_health.Check().CanWrite);

        _opensFail = false;
        Assert.Equal(1, await _writer.WriteAsync(c => Insert(c, "reopened"), singleStatement: true, durable: true).WaitAsync(Answer));
        Assert.Equal(["reopened"], Rows());
    }

    [Fact]
    public async Task UnexpectedFailureOutsideAnyOperation_AnswersUnavailable_AndTheWriterGoesOn()
    {
        var once = 0;
        _writer.BeforeOwnStatement = sql =>
        {
            if (sql == "BEGIN IMMEDIATE" && Interlocked.Exchange(ref once, 1) == 0)
            {
                throw new InvalidOperationException("not a SQLite error at all");
            }
        };

        var failed = _writer.WriteAsync(c => Insert(c, "a"), singleStatement: true, durable: true);

        var error = await Assert.ThrowsAsync<TaskStoreUnavailableException>(() => failed.WaitAsync(Answer));
        Assert.IsType<InvalidOperationException>(error.InnerException);
        Assert.Equal(1, await _writer.WriteAsync(c => Insert(c, "b"), singleStatement: true, durable: true).WaitAsync(Answer));
        Assert.Equal(["b"], Rows());
    }

    /// <summary>Queues the writes while the writer is held up, so that they share one transaction.</summary>
    private async Task<(Task<T1>, Task<T2>)> InOneBatchAsync<T1, T2>(Func<Task<T1>> first, Func<Task<T2>> second)
    {
        var release = await HoldWriterAsync();
        var tasks = (first(), second());
        release.Set();
        return tasks;
    }

    private async Task<(Task<T1>, Task<T2>, Task<T3>)> InOneBatchAsync<T1, T2, T3>(Func<Task<T1>> first, Func<Task<T2>> second, Func<Task<T3>> third)
    {
        var release = await HoldWriterAsync();
        var tasks = (first(), second(), third());
        release.Set();
        return tasks;
    }

    /// <summary>Occupies the writer's loop until the returned event is set: writes queued meanwhile form the next batch.</summary>
    private async Task<ManualResetEventSlim> HoldWriterAsync()
    {
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new ManualResetEventSlim();
        _ = _writer.WriteAsync(_ => { running.SetResult(); release.Wait(Answer); return 0; }, singleStatement: true, durable: false);
        await running.Task.WaitAsync(Answer);
        return release;
    }

    private SqliteConnection Open()
    {
        if (_opensFail)
        {
            Interlocked.Increment(ref _failedOpens);
            throw new SqliteException("unable to open database file", 14);
        }

        // Microsoft.Data.Sqlite retries a busy statement for its command timeout (30 s by default): one second here.
        var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False;Default Timeout=1");
        connection.Open();
        Execute(connection, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 100");
        return connection;
    }

    private static int Insert(SqliteWriteContext context, string value) =>
        context.Command("INSERT INTO t (v) VALUES ($v)").Bind("$v", value).ExecuteNonQuery();

    private List<string> Rows()
    {
        using var connection = new SqliteConnection($"Data Source={DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT v FROM t ORDER BY v";
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
