using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using TaskSystem.Storage;
using TaskSystem.Storage.Sqlite;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Storage;

/// <summary>
/// What the SQLite store does when SQLite refuses a write, and how it keeps its WAL from taking the disk: real faults,
/// provoked through SQLite's own limits (a page limit stands for a full disk).
/// </summary>
public sealed class SqliteStoreFailureTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _directory = new();

    private string DatabasePath => _directory.File("tasks.db");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task TasksComplete_AnOutcomeSqliteRefuses_IsRecordedAsAFailure_WhileTheOthersInTheCallApply()
    {
        // SQLite refuses any value longer than its length limit (SQLITE_TOOBIG): lowered here so that a 20 KB result is one.
        await using var store = Open(configure: connection => SQLitePCL.raw.sqlite3_limit(connection.Handle, SQLitePCL.raw.SQLITE_LIMIT_LENGTH, 10_000));
        await store.TasksInsertAsync(new TasksInsertParams([NewTask(), NewTask()]), CancellationToken.None);
        var claimed = await store.TasksClaimAsync(new TasksClaimParams("n1", 7, 2, ["a"], T0, T0.AddMinutes(1)), CancellationToken.None);

        var applied = await store.TasksCompleteAsync(new TasksCompleteParams(
        [
            new TaskCompletion(claimed[0].Id, "n1", 7, CompletionKind.Succeeded, T0, ResultJson: $"\"{new string('x', 20_000)}\""),
            new TaskCompletion(claimed[1].Id, "n1", 7, CompletionKind.Succeeded, T0, ResultJson: "42"),
        ]), CancellationToken.None);

        Assert.Equal([true, true], applied);
        var refused = (await store.TaskGetAsync(claimed[0].Id, CancellationToken.None))!;
        Assert.Equal(TaskState.Failed, refused.State);
        Assert.StartsWith("the attempt's outcome could not be stored", refused.Error, StringComparison.Ordinal);
        Assert.Null(refused.ResultJson);
        var stored = (await store.TaskGetAsync(claimed[1].Id, CancellationToken.None))!;
        Assert.Equal((TaskState.Succeeded, "42"), (stored.State, stored.ResultJson));
    }

    [Fact]
    public async Task FullDatabase_RefusesInsertsAsUnavailable_TellsWriteHealth_AndAcceptsAgainOnceThereIsRoom()
    {
        var time = new FakeTimeProvider(T0);
        var pageLimit = long.MaxValue;
        await using var store = Open(connection => SetPageLimit(connection, Volatile.Read(ref pageLimit)), new WriteHealth(time));
        await store.MigrateAsync(CancellationToken.None);
        Volatile.Write(ref pageLimit, await PageCountAsync(store));
        await store.WriteAsync(context => SetPageLimit(context.Connection, Volatile.Read(ref pageLimit)), CancellationToken.None, singleStatement: true);

        var accepted = 0;
        TaskStoreUnavailableException? full = null;
        while (full is null && accepted < 10_000)
        {
            try
            {
                await store.TasksInsertAsync(new TasksInsertParams([NewTask(payload: $"\"{new string('p', 2000)}\"")]), CancellationToken.None);
                accepted++;
            }
            catch (TaskStoreUnavailableException exception)
            {
                full = exception;
            }
        }

        Assert.NotNull(full);
        Assert.Contains("full", full.Message, StringComparison.Ordinal);
        Assert.False(store.WriteHealth.Check().CanWrite);

        await store.WriteAsync(context => SetPageLimit(context.Connection, long.MaxValue), CancellationToken.None, singleStatement: true);
        var inserted = await store.TasksInsertAsync(new TasksInsertParams([NewTask()]), CancellationToken.None);

        Assert.Equal(accepted + 1L, (await store.TasksCountByStateAsync(CancellationToken.None))[TaskState.Queued]);
        Assert.False(store.WriteHealth.Check().CanWrite, "a failure is remembered for a while");
        time.Advance(store.WriteHealth.Memory - TimeSpan.FromMilliseconds(1));
        Assert.False(store.WriteHealth.Check().CanWrite);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(store.WriteHealth.Check().CanWrite);
        Assert.Equal(accepted + 1, inserted[0].Id);
    }

    [Fact]
    public async Task Writer_GoingIdle_EmptiesAndTruncatesTheWal()
    {
        await using var store = Open();
        for (var i = 0; i < 20; i++)
        {
            await store.TasksInsertAsync(new TasksInsertParams([.. Enumerable.Range(0, 20).Select(_ => NewTask(payload: $"\"{new string('p', 1000)}\""))]), CancellationToken.None);
        }

        Assert.True(WalBytes() > 0);
        await Eventually.Until(() => WalBytes() == 0, TimeSpan.FromSeconds(10), "the idle writer to truncate the WAL");
        Assert.Equal(400L, (await store.TasksCountByStateAsync(CancellationToken.None))[TaskState.Queued]);
    }

    [Fact]
    public async Task Open_WithALargeWalLeftByACrash_EmptiesItBeforeAnyWrite()
    {
        await using (var first = Open())
        {
            await first.MigrateAsync(CancellationToken.None);
        }

        // A crash leaves the WAL unmerged: copy the files while a connection holds them, as the crash would leave them.
        var crashed = _directory.File("crashed");
        Directory.CreateDirectory(crashed);
        using (var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False"))
        {
            connection.Open();
            Execute(connection, "PRAGMA wal_autocheckpoint = 0");
            for (var i = 0; i < 300; i++)
            {
                Execute(connection, $"INSERT INTO tasks (type, queue, priority, payload, state, max_attempts, timeout_ms, created_at, run_at) VALUES ('a', 'default', 0, '\"{new string('p', 2000)}\"', 'queued', 3, 1000, 0, 0)");
            }

            foreach (var suffix in (string[])["", "-wal", "-shm"])
            {
                File.Copy(DatabasePath + suffix, Path.Combine(crashed, "tasks.db" + suffix));
            }
        }

        foreach (var suffix in (string[])["", "-wal", "-shm"])
        {
            File.Copy(Path.Combine(crashed, "tasks.db" + suffix), DatabasePath + suffix, overwrite: true);
        }

        Assert.InRange(WalBytes(), 600_000, long.MaxValue);

        await using var reopened = Open();
        await reopened.MigrateAsync(CancellationToken.None);

        Assert.Equal(0, WalBytes());
        Assert.Equal(300L, (await reopened.TasksCountByStateAsync(CancellationToken.None))[TaskState.Queued]);
    }

    private SqliteTaskStore Open(Action<SqliteConnection>? configure = null, WriteHealth? health = null) =>
        new($"Data Source={DatabasePath}", NullLogger<SqliteTaskStore>.Instance)
        {
            ConfigureWriterConnection = configure,
            WriteHealth = health ?? new WriteHealth(TimeProvider.System),
        };

    private static NewTask NewTask(string payload = "{}") => new("a", "default", 0, payload, 3, TimeSpan.FromMinutes(1), T0, T0);

    private long WalBytes() => File.Exists(DatabasePath + "-wal") ? new FileInfo(DatabasePath + "-wal").Length : 0;

    private static Task<long> PageCountAsync(SqliteTaskStore store) =>
        store.WriteAsync(context => (long)context.Command("PRAGMA page_count").ExecuteScalar()!, CancellationToken.None, singleStatement: true);

    /// <summary>SQLite's own size limit, per connection: past it, a write that needs a new page fails with SQLITE_FULL.</summary>
    private static long SetPageLimit(SqliteConnection connection, long pages)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA max_page_count = {pages}";
        return (long)command.ExecuteScalar()!;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
