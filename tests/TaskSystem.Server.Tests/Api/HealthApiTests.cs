using System.Net;
using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using TaskSystem.Engine;
using TaskSystem.Server.Tests.Support;
using TaskSystem.Storage;
using TaskSystem.Storage.Sqlite;
using TaskSystem.Tests.Support;
using TaskSystem.TestSupport;

namespace TaskSystem.Server.Tests.Api;

/// <summary>Liveness: the process answers. Readiness: the store answers, this node's writes go through, and the workers run.</summary>
public sealed class HealthApiTests
{
    [Fact]
    public async Task Ready_WhileTheWorkersRun_AndNotOnceTheyStop_WhileLiveStays200()
    {
        await using var factory = new ApiFactory();
        using var client = factory.CreateClient();

        using (var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        await factory.Services.GetRequiredService<TaskEngine>().StopAsync(CancellationToken.None);

        using var notReady = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
        using var live = await client.GetAsync(new Uri("/health/live", UriKind.Relative));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Fact]
    public async Task Ready_Is503WhileSqliteRefusesWrites_AndReadsStillAnswer_ThenRecoversOnceWritesGoThrough()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var volume = new PageLimitVolume();
        await using var factory = new ApiFactory();
        volume.Use(factory);
        UseWriteHealthClock(factory, time);
        using var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, await ReadyAsync(client));

        await volume.LeaveLittleRoomAsync(factory.Services);
        await Eventually.Until(() => PostAsync(client), status => status == HttpStatusCode.ServiceUnavailable, because: "the database to be full");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, await ReadyAsync(client));
        using (var list = await client.GetAsync(new Uri("/tasks?state=all", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        }

        await volume.FreeAsync(factory.Services);
        await Eventually.Until(() => PostAsync(client), status => status == HttpStatusCode.Created, because: "writes to go through again");
        await ReadyAgainAsync(client, time);
    }

    [Fact]
    public async Task Ready_Is503WhileClaimsFail_WhicheverStoreFailsThem_ThenRecoversWhenTheyWork()
    {
        // The store is wrapped so that only its claims fail, and it reports nothing itself: the engine's own report
        // of its claims is what readiness reads, as it would be for any store.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var factory = new ApiFactory();
        FailingClaims? claims = null;
        factory.Configure = builder => builder.ConfigureTestServices(services => services.AddSingleton(provider =>
        {
            var (store, gate) = FailingClaims.Wrap(new SqliteTaskStore(factory.ConnectionString, provider.GetRequiredService<ILogger<SqliteTaskStore>>()));
            claims = gate;
            return store;
        }));
        UseWriteHealthClock(factory, time);
        using var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, await ReadyAsync(client));

        claims!.Failing = true;
        await Eventually.Until(() => ReadyAsync(client), status => status == HttpStatusCode.ServiceUnavailable, because: "failed claims to make the node not ready");

        claims.Failing = false;
        await ReadyAgainAsync(client, time);
    }

    [Fact]
    public async Task Ready_OnPostgres_Is503WhileTheDatabaseRefusesWritesForLackOfSpace_ThenRecovers()
    {
        var connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var factory = new ApiFactory();
        factory.Settings["TaskSystem:Provider"] = "postgres";
        factory.Settings["TaskSystem:ConnectionString"] = connectionString;
        UseWriteHealthClock(factory, time);
        using var client = factory.CreateClient();
        await Eventually.Until(() => ReadyAsync(client), status => status == HttpStatusCode.OK, because: "the node to be ready");

        // PostgreSQL's own answer to a full disk (SQLSTATE 53100), for every write of tasks, while reads still answer.
        await ExecuteAsync(connectionString, """
            CREATE FUNCTION refuse_writes() RETURNS trigger LANGUAGE plpgsql AS
                $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$;
            CREATE TRIGGER refuse_writes BEFORE INSERT OR UPDATE ON tasksystem_tasks FOR EACH STATEMENT EXECUTE FUNCTION refuse_writes();
            """);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, await PostAsync(client));
        await Eventually.Until(() => ReadyAsync(client), status => status == HttpStatusCode.ServiceUnavailable, because: "failed writes to make the node not ready");

        await ExecuteAsync(connectionString, "DROP TRIGGER refuse_writes ON tasksystem_tasks");
        await Eventually.Until(() => PostAsync(client), status => status == HttpStatusCode.Created, because: "writes to go through again");
        await ReadyAgainAsync(client, time);
    }

    /// <summary>Readiness remembers a failed write for a while: moves the clock on until it says ready again.</summary>
    private static Task ReadyAgainAsync(HttpClient client, FakeTimeProvider time) =>
        Eventually.Until(
            async () =>
            {
                time.Advance(TimeSpan.FromSeconds(1));
                return await ReadyAsync(client);
            },
            status => status == HttpStatusCode.OK,
            because: "readiness once writes went through for longer than the failure memory");

    /// <summary>The write health of this server runs on <paramref name="time"/>; the rest keeps real time.</summary>
    private static void UseWriteHealthClock(ApiFactory factory, FakeTimeProvider time)
    {
        var previous = factory.Configure;
        factory.Configure = builder =>
        {
            previous?.Invoke(builder);
            builder.ConfigureTestServices(services => services.AddSingleton(new WriteHealth(time)));
        };
    }

    private static async Task<HttpStatusCode> ReadyAsync(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
        return response.StatusCode;
    }

    private static async Task<HttpStatusCode> PostAsync(HttpClient client)
    {
        var body = JsonSerializer.Serialize(new { type = "demo", payload = new { durationMs = 0, pad = new string('p', 4000) } });
        using var response = await client.PostAsync(new Uri("/tasks", UriKind.Relative), new StringContent(body));
        return response.StatusCode;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}

/// <summary>A store whose claims fail while <see cref="Failing"/> is set; everything else goes to the real store.</summary>
public class FailingClaims : DispatchProxy
{
    private ITaskStore _inner = null!;
    private volatile bool _failing;

    public bool Failing
    {
        get => _failing;
        set => _failing = value;
    }

    internal static (ITaskStore Store, FailingClaims Gate) Wrap(ITaskStore inner)
    {
        var store = Create<ITaskStore, FailingClaims>();
        var gate = (FailingClaims)(object)store;
        gate._inner = inner;
        return (store, gate);
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
        Failing && targetMethod!.Name == nameof(ITaskStore.TasksClaimAsync)
            ? Task.FromException<IReadOnlyList<TaskRecord>>(new TaskStoreUnavailableException("claims refused by the test"))
            : targetMethod!.Invoke(_inner, args);
}
