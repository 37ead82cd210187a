using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using SQLitePCL;
using TaskSystem.Storage.Sqlite;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Storage;

/// <summary>
/// The writer's cached statements stay prepared: SQLite would otherwise plan a statement again each time the value
/// bound to its LIMIT changes, as the claim's does on every round.
/// </summary>
public sealed class SqliteQueryPlanTests : IDisposable
{
    /// <summary>The claim's shape: a seek of the queued index in queue order, as many as the round wants.</summary>
    private const string ClaimShaped = """
        SELECT id FROM tasks INDEXED BY tasks_queued
        WHERE state = 'queued' AND type = $type
        ORDER BY priority, run_at, id
        LIMIT $limit
        """;

    /// <summary>SQLITE_STMTSTATUS_REPREPARE: how many times SQLite prepared a statement again by itself.</summary>
    private const int Reprepares = 5;

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task TheWritersStatements_AreNotPreparedAgain_WhenTheBoundLimitChanges()
    {
        await using var store = new SqliteTaskStore($"Data Source={_directory.File("tasks.db")}", NullLogger<SqliteTaskStore>.Instance);
        await store.MigrateAsync(CancellationToken.None);

        var onTheWriter = await store.WriteAsync(context => RunWithLimits(context.Connection), CancellationToken.None, singleStatement: true);

        Assert.Equal(0, onTheWriter);

        // The same statement on a connection of SQLite's defaults is prepared again for each new limit: what the
        // writer's setting prevents.
        using var plain = new SqliteConnection($"Data Source={_directory.File("tasks.db")}");
        plain.Open();
        Assert.NotEqual(0, RunWithLimits(plain));
    }

    /// <summary>Runs <see cref="ClaimShaped"/> with limits 1, 2 and 3 on one prepared statement; returns its re-prepare count.</summary>
    private static int RunWithLimits(SqliteConnection connection)
    {
        Assert.Equal(raw.SQLITE_OK, raw.sqlite3_prepare_v2(connection.Handle, ClaimShaped, out var statement));
        using (statement)
        {
            foreach (var limit in new[] { 1, 2, 3 })
            {
                raw.sqlite3_reset(statement);
                raw.sqlite3_bind_text(statement, raw.sqlite3_bind_parameter_index(statement, "$type"), "a");
                raw.sqlite3_bind_int64(statement, raw.sqlite3_bind_parameter_index(statement, "$limit"), limit);
                Assert.Equal(raw.SQLITE_DONE, raw.sqlite3_step(statement));
            }

            return raw.sqlite3_stmt_status(statement, Reprepares, 0);
        }
    }
}
