using Microsoft.Extensions.Logging.Abstractions;
using TaskSystem.Storage;
using TaskSystem.Storage.Sqlite;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Storage;

/// <summary>The store contract on a real SQLite file.</summary>
public sealed class SqliteStoreContractTests : StoreContractTests
{
    private readonly TempDirectory _directory = new();

    private protected override Task<ITaskStore> CreateStoreAsync() => System.Threading.Tasks.Task.FromResult(Open());

    private protected override Task<ITaskStore> ReopenStoreAsync() => System.Threading.Tasks.Task.FromResult(Open());

    private ITaskStore Open() => new SqliteTaskStore(_directory.SqliteConnectionString, NullLogger<SqliteTaskStore>.Instance);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _directory.Dispose();
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

    [Fact]
    public async Task ConcurrentInserts_ShareCommits_AndAllAreDurable()
    {
        var inserts = await System.Threading.Tasks.Task.WhenAll(Enumerable.Range(0, 500).Select(_ =>
            Store.TasksInsertAsync(new TasksInsertParams([Task()]), CancellationToken.None)));
        await Store.DisposeAsync();

        var reopened = Open();
        await using var _ = reopened;
        var counts = await reopened.TasksCountByStateAsync(CancellationToken.None);

        Assert.Equal(500, inserts.Select(i => i[0].Id).Distinct().Count());
        Assert.Equal(500L, counts[TaskState.Queued]);
    }
}
