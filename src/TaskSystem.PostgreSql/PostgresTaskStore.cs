using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using TaskSystem.Storage;
using static TaskSystem.PostgreSql.PostgresRows;

namespace TaskSystem.PostgreSql;

/// <summary>
/// The store for a cluster: every node runs against one PostgreSQL database. Claims take rows with
/// <c>FOR UPDATE SKIP LOCKED</c>, so no two nodes ever hold the same task; every transition is conditional on the
/// state (and, for an owner's writes, on its node and claim), so late writes of a lost node are fenced off;
/// nodes signal each other with LISTEN/NOTIFY, behind slow polls.
/// </summary>
internal sealed partial class PostgresTaskStore : ITaskStore, ITaskNotifier
{
    private readonly PostgresDatabase _database;
    private readonly NpgsqlDataSource _listenSource;
    private readonly PostgresInsertBatcher _inserts;
    private readonly PostgresListener _listener;
    private readonly ILogger _logger;
    private readonly string _node;

    /// <summary>Claims whose outcome is unknown (the connection dropped after sending), by claim id, with their node.</summary>
    private readonly ConcurrentDictionary<long, string> _uncertainClaims = new();

    private int _disposed;

    public PostgresTaskStore(string connectionString, int maxPoolSize, string node, TimeProvider time, ILogger<PostgresTaskStore> logger)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            MaxPoolSize = maxPoolSize,
            Multiplexing = false,

            // The store sets no session state on its pooled connections (no SET, no LISTEN, no session advisory lock),
            // so the reset a returned connection otherwise sends ahead of its next command (seven statements: RESET
            // ALL, UNLISTEN *, DISCARD ...) is work for nothing on every claim and outcome round.
            NoResetOnClose = true,
        };
        if (builder.MaxAutoPrepare == 0)
        {
            // The same few statements run all day: prepare them once per connection.
            builder.MaxAutoPrepare = 32;
        }

        _database = new PostgresDatabase(new NpgsqlDataSourceBuilder(builder.ConnectionString).Build(), PostgresSchema.MigrateAsync);

        // The LISTEN connection lives as long as the node, outside the pool; keepalives make a dead server show up.
        var listen = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Pooling = false, KeepAlive = 5, MaxAutoPrepare = 0 };
        _listenSource = new NpgsqlDataSourceBuilder(listen.ConnectionString).Build();
        _node = node;
        _logger = logger;
        _inserts = new PostgresInsertBatcher(_database, node, logger);
        _listener = new PostgresListener(_listenSource, node, time, logger);
    }

    public StoreCapabilities Capabilities { get; } = new(SingleProcess: false);

    public Task MigrateAsync(CancellationToken cancellationToken) => _database.EnsureMigratedAsync(cancellationToken);

    public Task<IReadOnlyList<TaskRecord>> TasksInsertAsync(TasksInsertParams parameters, CancellationToken cancellationToken) =>
        parameters.Tasks.Any(t => t.After is { Length: > 0 })
            ? TasksInsertWithParentsAsync(parameters.Tasks, cancellationToken)
            : _inserts.InsertAsync(parameters.Tasks, cancellationToken);

    public Task<TaskRecord?> TaskGetAsync(long id, CancellationToken cancellationToken) =>
        _database.ReadAsync(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand($"SELECT {Columns} FROM tasksystem_tasks WHERE id = @id", connection).Bind("id", id);
            return await ReadSingleTaskAsync(command, token).ConfigureAwait(false);
        }, cancellationToken);

    public Task<IReadOnlyList<TaskRecord>> TasksListAsync(TasksListParams parameters, CancellationToken cancellationToken) =>
        _database.ReadAsync<IReadOnlyList<TaskRecord>>(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand { Connection = connection };
            var where = new List<string>();
            if (parameters.States is { Count: > 0 } states)
            {
                where.Add("state = ANY(@states)");
                command.Bind("states", states.Distinct().Select(s => s.ToWire()).ToArray());
            }

            if (parameters.Type is not null)
            {
                where.Add("type = @type");
                command.Bind("type", parameters.Type);
            }

            if (parameters.Queue is not null)
            {
                where.Add("queue = @queue");
                command.Bind("queue", parameters.Queue);
            }

            if (parameters.BeforeId is { } before)
            {
                where.Add("id < @before");
                command.Bind("before", before);
            }

            var filter = where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where);
            command.CommandText = $"SELECT {Columns} FROM tasksystem_tasks {filter} ORDER BY id DESC LIMIT @limit";
            command.Bind("limit", parameters.Limit);
            return await ReadTasksAsync(command, token).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>Only unfinished states: the cost follows the queue, not the history.</summary>
    public Task<IReadOnlyList<QueueStateCount>> TasksCountUnfinishedAsync(CancellationToken cancellationToken) =>
        CountQueueStatesAsync($"SELECT queue, state, COUNT(*) FROM tasksystem_tasks WHERE {Unfinished} GROUP BY queue, state", cancellationToken);

    /// <summary>Runs a query of (queue, state, count) rows.</summary>
    private Task<IReadOnlyList<QueueStateCount>> CountQueueStatesAsync(string sql, CancellationToken cancellationToken) =>
        _database.ReadAsync<IReadOnlyList<QueueStateCount>>(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand(sql, connection);
            var counts = new List<QueueStateCount>();
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                counts.Add(new QueueStateCount(reader.GetString(0), ParseState(reader.GetString(1)), reader.GetInt64(2)));
            }

            return counts;
        }, cancellationToken);

    public Task<int> TasksDeleteFinishedAsync(TasksDeleteFinishedParams parameters, CancellationToken cancellationToken) =>
        _database.WriteAsync(async (connection, token) =>
        {
            // SKIP LOCKED: several nodes may run retention at once; each deletes its own batch.
            await using var command = new NpgsqlCommand("""
                DELETE FROM tasksystem_tasks WHERE id IN (
                    SELECT id FROM tasksystem_tasks
                    WHERE finished_at IS NOT NULL AND finished_at < @before AND state IN ('succeeded', 'failed', 'cancelled')
                    LIMIT @limit
                    FOR UPDATE SKIP LOCKED)
                """, connection)
                .Bind("before", Utc(parameters.FinishedBefore))
                .Bind("limit", parameters.Limit);
            return await command.ExecuteNonQueryAsync(token).ConfigureAwait(false);
        }, onUncertain: null, cancellationToken);

    public Task<IReadOnlyList<long>> TasksStopRequestedAsync(TasksStopRequestedParams parameters, CancellationToken cancellationToken) =>
        _database.ReadAsync<IReadOnlyList<long>>(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand(
                "SELECT id FROM tasksystem_tasks WHERE state = 'running' AND node = @node AND stop_requested", connection).Bind("node", parameters.Node);
            var ids = new List<long>();
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                ids.Add(reader.GetInt64(0));
            }

            return ids;
        }, cancellationToken);

    public Task<bool> NodeStartAsync(NodeStartParams parameters, CancellationToken cancellationToken) =>
        _database.WriteAsync(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand("""
                INSERT INTO tasksystem_nodes (name, started_at, heartbeat_at, concurrency, busy) VALUES (@node, @now, @now, @concurrency, 0)
                ON CONFLICT (name) DO UPDATE SET
                    started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, concurrency = excluded.concurrency, busy = 0
                WHERE tasksystem_nodes.heartbeat_at < @stale_before
                """, connection)
                .Bind("node", parameters.Node)
                .Bind("now", Utc(parameters.Now))
                .Bind("stale_before", Utc(parameters.StaleBefore))
                .Bind("concurrency", parameters.Concurrency);
            return await command.ExecuteNonQueryAsync(token).ConfigureAwait(false) == 1;
        }, onUncertain: null, cancellationToken);

    public Task<IReadOnlyList<long>> NodeHeartbeatAsync(NodeHeartbeatParams parameters, CancellationToken cancellationToken) =>
        _database.WriteAsync<IReadOnlyList<long>>(async (connection, token) =>
        {
            await ReleaseUncertainClaimsAsync(connection, parameters.Now, token).ConfigureAwait(false);

            // Only the attempts the node holds, each under its own claim: a row left running under this node's name
            // that it does not hold (a lost outcome, say) is not renewed, so it expires and another node rescues it.
            // SKIP LOCKED: a row locked now is being completed or stopped; it is not in the returned ids, and is
            // extended at the next beat if it still runs.
            await using var batch = new NpgsqlBatch(connection);
            var extend = new NpgsqlBatchCommand("""
                UPDATE tasksystem_tasks SET lease_expires_at = @lease
                WHERE id IN (
                    SELECT t.id FROM tasksystem_tasks AS t JOIN unnest(@ids::bigint[], @claims::bigint[]) AS held(id, claim) ON t.id = held.id
                    WHERE t.claim_id = held.claim AND t.state = 'running' AND t.node = @node
                    FOR UPDATE OF t SKIP LOCKED)
                RETURNING id
                """);
            extend.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("lease", Utc(parameters.LeaseExpiresAt)));
            extend.Parameters.Add(new NpgsqlParameter<string>("node", parameters.Node));
            extend.Parameters.Add(new NpgsqlParameter<long[]>("ids", [.. parameters.Held.Select(h => h.Id)]));
            extend.Parameters.Add(new NpgsqlParameter<long[]>("claims", [.. parameters.Held.Select(h => h.ClaimId)]));
            var upsert = new NpgsqlBatchCommand("""
                INSERT INTO tasksystem_nodes (name, started_at, heartbeat_at, concurrency, busy) VALUES (@node, @started, @now, @concurrency, @busy)
                ON CONFLICT (name) DO UPDATE SET
                    started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at,
                    concurrency = excluded.concurrency, busy = excluded.busy
                """);
            upsert.Parameters.Add(new NpgsqlParameter<string>("node", parameters.Node));
            upsert.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("started", Utc(parameters.StartedAt)));
            upsert.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", Utc(parameters.Now)));
            upsert.Parameters.Add(new NpgsqlParameter<int>("concurrency", parameters.Concurrency));
            upsert.Parameters.Add(new NpgsqlParameter<int>("busy", parameters.Busy));
            batch.BatchCommands.Add(extend);
            batch.BatchCommands.Add(upsert);
            var renewed = new List<long>(parameters.Held.Count);
            await using var reader = await batch.ExecuteReaderAsync(token).ConfigureAwait(false);

            // To the end of the batch (the upsert returns no rows), so that an error of its own is thrown here.
            do
            {
                while (await reader.ReadAsync(token).ConfigureAwait(false))
                {
                    renewed.Add(reader.GetInt64(0));
                }
            }
            while (await reader.NextResultAsync(token).ConfigureAwait(false));
            return renewed;
        }, onUncertain: null, cancellationToken);

    public Task NodeRemoveAsync(string node, CancellationToken cancellationToken) =>
        _database.WriteAsync(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand("DELETE FROM tasksystem_nodes WHERE name = @node", connection).Bind("node", node);
            return await command.ExecuteNonQueryAsync(token).ConfigureAwait(false);
        }, onUncertain: null, cancellationToken);

    public Task<IReadOnlyList<NodeRecord>> NodesListAsync(CancellationToken cancellationToken) =>
        _database.ReadAsync<IReadOnlyList<NodeRecord>>(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand(
                "SELECT name, started_at, heartbeat_at, concurrency, busy FROM tasksystem_nodes ORDER BY heartbeat_at DESC", connection);
            var nodes = new List<NodeRecord>();
            await using var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
            while (await reader.ReadAsync(token).ConfigureAwait(false))
            {
                nodes.Add(new NodeRecord(
                    reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetInt32(3), reader.GetInt32(4)));
            }

            return nodes;
        }, cancellationToken);

    public async ValueTask NotifyStopAsync(long taskId, string node, CancellationToken cancellationToken) =>
        await _database.WriteAsync(async (connection, token) =>
        {
            await using var command = new NpgsqlCommand("SELECT pg_notify(@channel, @payload)", connection)
                .Bind("channel", PostgresChannels.Stop)
                .Bind("payload", string.Create(CultureInfo.InvariantCulture, $"{taskId} {node}"));
            await command.ExecuteNonQueryAsync(token).ConfigureAwait(false);
            return true;
        }, onUncertain: null, cancellationToken).ConfigureAwait(false);

    public Task ListenAsync(ITaskSignalHandler handler, CancellationToken cancellationToken) =>
        _listener.ListenAsync(handler, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _inserts.DisposeAsync().ConfigureAwait(false);
        await _database.DisposeAsync().ConfigureAwait(false);
        await _listenSource.DisposeAsync().ConfigureAwait(false);
    }
}
