using Microsoft.Extensions.Logging.Testing;
using Npgsql;
using TaskSystem.PostgreSql;
using TaskSystem.Storage;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Storage;

/// <summary>
/// The PostgreSQL store's failure paths: a group commit the server refuses because of one request is split so that
/// request fails alone, every caller gets an answer and the writer loops go on; a server out of disk space refuses
/// writes as "unavailable" (HTTP 503), with nothing left uncertain, and the store works again once it has space.
/// </summary>
public sealed class PostgresStoreFailureTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly FakeLogger<PostgresTaskStore> _log = new();
    private string _connectionString = null!;
    private PostgresTaskStore _store = null!;

    public async Task InitializeAsync()
    {
        _connectionString = await PostgresDatabases.CreateAsync();
        _store = new PostgresTaskStore(_connectionString, 6, "n1", TimeProvider.System, _log);
        await _store.MigrateAsync(CancellationToken.None);

        // A test-only trigger: a row whose payload is {"hold": k} waits for advisory lock k, which the test holds.
        // It lets the test keep each writer loop busy with a statement of its own, for as long as it likes.
        await ExecuteAsync(null, """
            CREATE FUNCTION test_hold() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.payload LIKE '{"hold":%' THEN
                    PERFORM pg_advisory_xact_lock((NEW.payload::jsonb ->> 'hold')::bigint);
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER test_hold BEFORE INSERT ON tasksystem_tasks FOR EACH ROW EXECUTE FUNCTION test_hold();
            """);
    }

    public async Task DisposeAsync() => await _store.DisposeAsync();

    private static NewTask Task(string payload = "{}") => new("t", "default", 0, payload, 3, TimeSpan.FromMinutes(1), T0, T0);

    private Task<IReadOnlyList<TaskRecord>> InsertAsync(string payload = "{}") =>
        _store.TasksInsertAsync(new TasksInsertParams([Task(payload)]), CancellationToken.None);

    [Fact]
    public async Task GroupCommit_RefusedBecauseOfOneRequest_IsSplit_ThatRequestFailsAlone_TheOthersCommit_AndTheWritersGoOn()
    {
        await using var locks = new NpgsqlConnection(_connectionString);
        await locks.OpenAsync();
        await ExecuteAsync(locks, "SELECT pg_advisory_lock(1), pg_advisory_lock(2)");

        // Both writer loops wait inside a statement of their own, so what comes next gathers into one batch.
        var held1 = InsertAsync("""{"hold": 1}""");
        await Eventually.Until(() => WaitingOnLocksAsync(), n => n == 1, because: "one writer to wait on lock 1");
        var held2 = InsertAsync("""{"hold": 2}""");
        await Eventually.Until(() => WaitingOnLocksAsync(), n => n == 2, because: "the other writer to wait on lock 2");
        var good1 = InsertAsync("""{"n": 1}""");
        var bad = InsertAsync("a NUL \0 PostgreSQL refuses in text");
        var good2 = InsertAsync("""{"n": 2}""");

        // Free the first writer only: it takes the three waiting requests as one batch, which the server refuses.
        await ExecuteAsync(locks, "SELECT pg_advisory_unlock(1)");

        var refused = await Assert.ThrowsAsync<PostgresException>(() => bad);
        var ids = new[] { (await good1)[0].Id, (await good2)[0].Id, (await held1)[0].Id };
        Assert.Equal("22021", refused.SqlState);
        Assert.Contains(_log.Collector.GetSnapshot(), r => r.Id.Id == 203 && r.Message.Contains("3 requests", StringComparison.Ordinal));
        Assert.False(held2.IsCompleted, "the second writer still waits: the split was the first writer's alone");

        await ExecuteAsync(locks, "SELECT pg_advisory_unlock(2)");
        var all = ids.Append((await held2)[0].Id).Append((await InsertAsync())[0].Id).ToList();

        foreach (var id in all)
        {
            Assert.Equal(TaskState.Queued, (await _store.TaskGetAsync(id, CancellationToken.None))!.State);
        }

        Assert.Equal(5L, (await _store.TasksCountByStateAsync(CancellationToken.None))[TaskState.Queued]);
    }

    [Fact]
    public async Task ManyConcurrentRequests_WithBadOnesAmongThem_EachIsAnsweredOnItsOwnMerits()
    {
        // Rounds, because a connection that prepared the insert and then had one refused must stay usable for the
        // next round's accepted inserts.
        for (var round = 0; round < 4; round++)
        {
            var requests = Enumerable.Range(0, 300)
                .Select(i => (Bad: i % 50 == 7, Insert: InsertAsync(i % 50 == 7 ? "bad \0" : $$"""{"i":{{i}}}""")))
                .ToList();

            foreach (var (isBad, insert) in requests)
            {
                if (isBad)
                {
                    Assert.Equal("22021", (await Assert.ThrowsAsync<PostgresException>(() => insert)).SqlState);
                }
                else
                {
                    Assert.Equal(TaskState.Queued, (await insert)[0].State);
                }
            }
        }

        Assert.Equal(4 * 294L, (await _store.TasksCountByStateAsync(CancellationToken.None))[TaskState.Queued]);
    }

    [Fact]
    public async Task DiskFull_WritesFailAsUnavailable_NothingIsLeftUncertain_AndTheyWorkAgainWhenSpaceReturns()
    {
        var queued = (await InsertAsync())[0].Id;
        var now = DateTimeOffset.UtcNow;

        // PostgreSQL's own disk_full error (SQLSTATE 53100), as "could not extend file" raises it when a volume is full.
        await ExecuteAsync(null, """
            CREATE FUNCTION test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full';
            END $$;
            CREATE TRIGGER test_disk_full BEFORE INSERT OR UPDATE ON tasksystem_tasks FOR EACH ROW EXECUTE FUNCTION test_disk_full();
            """);

        var insert = await Assert.ThrowsAsync<TaskStoreUnavailableException>(() => InsertAsync());
        var claim = await Assert.ThrowsAsync<TaskStoreUnavailableException>(() =>
            _store.TasksClaimAsync(new TasksClaimParams("n1", 5, 10, ["t"], now, now.AddSeconds(30)), CancellationToken.None));

        Assert.All([insert, claim], e => Assert.Equal("53100", Assert.IsType<PostgresException>(e.InnerException).SqlState));
        Assert.Contains("for want of a resource (53100)", claim.Message, StringComparison.Ordinal);

        // The server refused the claim outright: it is known to have taken nothing, so nothing is queued for release.
        Assert.DoesNotContain(_log.Collector.GetSnapshot(), r => r.Id.Id == 204);
        Assert.Equal(TaskState.Queued, (await _store.TaskGetAsync(queued, CancellationToken.None))!.State);

        await ExecuteAsync(null, "DROP TRIGGER test_disk_full ON tasksystem_tasks");

        Assert.Equal(TaskState.Queued, (await InsertAsync())[0].State);
        Assert.Equal(2, (await _store.TasksClaimAsync(new TasksClaimParams("n1", 6, 10, ["t"], now, now.AddSeconds(30)), CancellationToken.None)).Count);
    }

    /// <summary>Statements of this database waiting on an advisory lock.</summary>
    private async Task<long> WaitingOnLocksAsync()
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()",
            connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task ExecuteAsync(NpgsqlConnection? connection, string sql)
    {
        var owned = connection is null ? new NpgsqlConnection(_connectionString) : null;
        try
        {
            var open = connection ?? owned!;
            if (owned is not null)
            {
                await owned.OpenAsync();
            }

            await using var command = new NpgsqlCommand(sql, open);
            await command.ExecuteNonQueryAsync();
        }
        finally
        {
            if (owned is not null)
            {
                await owned.DisposeAsync();
            }
        }
    }
}
