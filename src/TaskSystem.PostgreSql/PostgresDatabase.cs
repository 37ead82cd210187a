using Npgsql;
using TaskSystem.Storage;

namespace TaskSystem.PostgreSql;

/// <summary>
/// The pooled connections of one node, and the one rule for their failures: a database out of reach becomes
/// <see cref="TaskStoreUnavailableException"/>, and the pool is cleared so that the connections a
/// restart broke are not handed out again. Reads are retried once on a fresh connection; writes are retried only
/// when the connection could not be opened (nothing was sent), because a write cut off mid-way may have committed.
/// A server short of a resource (a full disk) refuses the statement outright: unavailable too, but with a certain
/// outcome (nothing written) and a sound connection, so nothing is retried, cleared or marked uncertain.
/// </summary>
internal sealed class PostgresDatabase(NpgsqlDataSource dataSource, Func<NpgsqlConnection, CancellationToken, Task> migrate) : IAsyncDisposable
{
    private readonly SemaphoreSlim _migrating = new(1, 1);
    private volatile bool _migrated;

    public NpgsqlDataSource DataSource => dataSource;

    /// <summary>
    /// Migrates the schema once, before the first operation: the engine calls it at start, and an application may
    /// enqueue before it starts the engine, as it may on SQLite.
    /// </summary>
    public Task EnsureMigratedAsync(CancellationToken cancellationToken) =>
        _migrated ? Task.CompletedTask : RunAsync<bool>((_, _) => Task.FromResult(true), retryAfterSend: false, onUncertain: null, cancellationToken);

    private async Task MigrateOnceAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await _migrating.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_migrated)
            {
                await migrate(connection, cancellationToken).ConfigureAwait(false);
                _migrated = true;
            }
        }
        finally
        {
            _migrating.Release();
        }
    }

    public Task<T> ReadAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> read, CancellationToken cancellationToken) =>
        RunAsync(read, retryAfterSend: true, onUncertain: null, cancellationToken);

    /// <summary>Told of each write that could not reach the database (readiness reads it).</summary>
    public WriteHealth WriteHealth { get; set; } = new(TimeProvider.System);

    /// <param name="write">The write.</param>
    /// <param name="onUncertain">Called when the write failed after it was sent: it may or may not have committed.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public async Task<T> WriteAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> write, Action? onUncertain, CancellationToken cancellationToken)
    {
        try
        {
            return await RunAsync(write, retryAfterSend: false, onUncertain, cancellationToken).ConfigureAwait(false);
        }
        catch (TaskStoreUnavailableException exception)
        {
            WriteHealth.Failed(exception);
            throw;
        }
    }

    private async Task<T> RunAsync<T>(
        Func<NpgsqlConnection, CancellationToken, Task<T>> work, bool retryAfterSend, Action? onUncertain, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            NpgsqlConnection connection;
            try
            {
                connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (PostgresErrors.IsUnavailable(exception) && !cancellationToken.IsCancellationRequested)
            {
                dataSource.Clear();
                if (attempt == 1)
                {
                    continue;
                }

                throw PostgresErrors.Unavailable(exception);
            }

            await using (connection.ConfigureAwait(false))
            {
                try
                {
                    if (!_migrated)
                    {
                        await MigrateOnceAsync(connection, cancellationToken).ConfigureAwait(false);
                    }

                    return await work(connection, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception exception) when (PostgresErrors.IsShortOfResources(exception))
                {
                    // The server answered, refusing the statement as a whole (a full disk, say): nothing was written,
                    // the connection is sound, and trying again at once would only meet the same shortage.
                    ForgetPreparedStatements(connection);
                    throw PostgresErrors.Unavailable(exception);
                }
                catch (PostgresException exception) when (!PostgresErrors.IsUnavailable(exception) && !PostgresErrors.IsConnectionLost(connection))
                {
                    // A statement the server refused (a bug or a bad value): the caller gets it as it is.
                    ForgetPreparedStatements(connection);
                    throw;
                }
                catch (Exception exception) when (PostgresErrors.IsUnavailable(exception) && !cancellationToken.IsCancellationRequested)
                {
                    dataSource.Clear();
                    if (attempt == 1 && retryAfterSend)
                    {
                        continue;
                    }

                    onUncertain?.Invoke();
                    throw PostgresErrors.Unavailable(exception);
                }
            }
        }
    }

    /// <summary>
    /// After the server refused a statement, drops the connection's prepared statements before it goes back to the
    /// pool. Npgsql prepares the statements we repeat on each connection; a statement that fails (a value the server
    /// rejects, a full disk) can leave its record of them out of step with the server, and the next command on that
    /// connection then fails with "Received unexpected backend message" (seen here under load, 1 run in 2 of a test
    /// that mixes refused and accepted inserts, and 4 runs in 4 with four rounds of it). Errors are rare, so the round trip
    /// is cheap.
    /// </summary>
    private static void ForgetPreparedStatements(NpgsqlConnection connection)
    {
        try
        {
            connection.UnprepareAll();
        }
        catch (Exception exception) when (exception is NpgsqlException or InvalidOperationException)
        {
            // The connection is broken: the pool will not hand it out again, and its statements go with it.
        }
    }

    public ValueTask DisposeAsync()
    {
        _migrating.Dispose();
        return dataSource.DisposeAsync();
    }
}
