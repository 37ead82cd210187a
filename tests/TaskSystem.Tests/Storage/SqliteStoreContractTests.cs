using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using SQLitePCL;
using TaskSystem.Storage;
using TaskSystem.Storage.Sqlite;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Storage;

/// <summary>The store contract on a real SQLite file; then what only SQLite has: one process per file.</summary>
public sealed class SqliteStoreContractTests : StoreContractTests
{
    private readonly TempDirectory _directory = new();
    private readonly TempDirectory _otherDirectory = new();

    private protected override Task<ITaskStore> CreateStoreAsync() => System.Threading.Tasks.Task.FromResult(Open());

    private protected override Task<ITaskStore> ReopenStoreAsync() => System.Threading.Tasks.Task.FromResult(Open());

    private ITaskStore Open() => new SqliteTaskStore(_directory.SqliteConnectionString, NullLogger<SqliteTaskStore>.Instance);

    private protected override Task<ITaskStore> CreateUnmigratedStoreAsync() =>
        System.Threading.Tasks.Task.FromResult<ITaskStore>(new SqliteTaskStore(_otherDirectory.SqliteConnectionString, NullLogger<SqliteTaskStore>.Instance));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _directory.Dispose();
        _otherDirectory.Dispose();
    }

    /// <summary>The virtual machine steps of the count and histogram statements, on a connection of the test's own.</summary>
    protected override Task<long> CountingWorkAsync()
    {
        using var connection = new SqliteConnection(_directory.SqliteConnectionString + ";Pooling=False");
        connection.Open();
        var steps = 0L;
        foreach (var sql in new[] { SqliteTaskStore.CountByStateSql, SqliteTaskStore.CountByQueueSql, SqliteTaskStore.ThroughputSql })
        {
            Assert.Equal(raw.SQLITE_OK, raw.sqlite3_prepare_v2(connection.Handle, sql, out var statement));
            using (statement)
            {
                var since = raw.sqlite3_bind_parameter_index(statement, "$since");
                if (since > 0)
                {
                    raw.sqlite3_bind_int64(statement, since, 0);
                }

                while (raw.sqlite3_step(statement) == raw.SQLITE_ROW)
                {
                }

                steps += raw.sqlite3_stmt_status(statement, raw.SQLITE_STMTSTATUS_VM_STEP, 0);
            }
        }

        return System.Threading.Tasks.Task.FromResult(steps);
    }

    [Fact]
    public async Task SecondProcessOnTheSameFile_IsRefusedWithAClearMessage()
    {
        // The lock is per open file description, so a second store in this process stands in for a second process.
        await using var second = Open();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => second.MigrateAsync(CancellationToken.None));

        Assert.Contains("in use by another TaskSystem process", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InMemoryDatabase_IsRefused() =>
        Assert.Throws<ArgumentException>(() => new SqliteTaskStore("Data Source=:memory:", NullLogger<SqliteTaskStore>.Instance));
}
