using Npgsql;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Library;

/// <summary>
/// Enqueue inside the app's own PostgreSQL transaction: the task exists if and only if the app commits, and the
/// workers are woken by the commit itself (the poll is an hour away here), on a real PostgreSQL.
/// </summary>
public sealed class TransactionalEnqueueTests
{
    [Fact]
    public async Task Commit_TheTaskAndTheAppsRowExistTogether_AndTheTaskRunsAtOnce()
    {
        var database = await PostgresDatabases.CreateAsync();
        await using var node = await PostgresEngineHosts.StartAsync(database, "tx-node", b => b.AddHandler("ship", (_, _) => Task.CompletedTask),
            o => o.PollInterval = TimeSpan.FromHours(1));
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await Execute(connection, null, "CREATE TABLE orders (id int PRIMARY KEY)");

        await using var transaction = await connection.BeginTransactionAsync();
        await Execute(connection, transaction, "INSERT INTO orders VALUES (1)");
        var task = await node.Manager.EnqueueAsync(new TaskRequest("ship"), transaction);
        var beforeCommit = await node.Manager.GetAsync(task.Id);
        await transaction.CommitAsync();
        var done = await node.Manager.WaitAsync(task.Id).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Null(beforeCommit);
        Assert.Equal(TaskState.Succeeded, done!.State);
        Assert.Equal(1L, await Scalar(connection, "SELECT count(*) FROM orders"));
    }

    [Fact]
    public async Task Commit_WakesAnotherNodesWorkers_ThePollBeingAnHourAway()
    {
        var database = await PostgresDatabases.CreateAsync();
        await using var producer = await PostgresEngineHosts.StartAsync(database, "tx-producer", b => b.AddTaskType("ship"), o => o.PollInterval = TimeSpan.FromHours(1));
        await using var worker = await PostgresEngineHosts.StartAsync(database, "tx-worker", b => b.AddHandler("ship", (_, _) => Task.CompletedTask),
            o => o.PollInterval = TimeSpan.FromHours(1));
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();

        await using var transaction = await connection.BeginTransactionAsync();
        var task = await producer.Manager.EnqueueAsync(new TaskRequest("ship"), transaction);
        await transaction.CommitAsync();
        var done = await worker.WaitForStateAsync(task.Id, TaskState.Succeeded, TimeSpan.FromSeconds(20));

        Assert.Equal("tx-worker", done.Node);
    }

    [Fact]
    public async Task Rollback_NeitherTheTaskNorTheAppsRowExist()
    {
        var database = await PostgresDatabases.CreateAsync();
        await using var node = await PostgresEngineHosts.StartAsync(database, "tx-node", b => b.AddHandler("ship", (_, _) => Task.CompletedTask));
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await Execute(connection, null, "CREATE TABLE orders (id int PRIMARY KEY)");

        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await Execute(connection, transaction, "INSERT INTO orders VALUES (1)");
            var tasks = await node.Manager.EnqueueManyAsync([new TaskRequest("ship"), new TaskRequest("ship")], transaction);
            Assert.Equal(2, tasks.Count);
            await transaction.RollbackAsync();
        }

        Assert.Equal(0L, await Scalar(connection, "SELECT count(*) FROM tasksystem_tasks"));
        Assert.Equal(0L, await Scalar(connection, "SELECT count(*) FROM orders"));
    }

    [Fact]
    public async Task Sqlite_RefusesAnAppTransaction_SayingWhy()
    {
        await using var host = await EngineHost.StartAsync(b => b.AddHandler("ship", (_, _) => Task.CompletedTask));
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=:memory:");
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();

        var error = await Assert.ThrowsAsync<NotSupportedException>(() => host.Manager.EnqueueAsync(new TaskRequest("ship"), transaction));

        Assert.Contains("PostgreSQL", error.Message, StringComparison.Ordinal);
    }

    private static async Task Execute(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> Scalar(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
