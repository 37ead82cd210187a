using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using TaskSystem.Storage;

namespace TaskSystem.PostgreSql;

/// <summary>
/// Receives other nodes' signals on a connection of its own, held open for the life of the node. When that
/// connection breaks (PostgreSQL restarted, the network dropped) it reconnects with backoff, and then wakes the
/// dispatcher and the scheduler: signals sent while it was away are lost, so they look at the queue and the
/// schedules once instead.
/// </summary>
internal sealed class PostgresListener(NpgsqlDataSource dataSource, string node, TimeProvider time, ILogger logger)
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    public async Task ListenAsync(ITaskSignalHandler handler, CancellationToken cancellationToken)
    {
        var delay = FirstRetryDelay;
        var connected = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                connection.Notification += (_, notification) => Dispatch(handler, notification.Channel, notification.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {PostgresChannels.TasksReady}; LISTEN {PostgresChannels.Stop}; LISTEN {PostgresChannels.Stopped}; LISTEN {PostgresChannels.Schedules}", connection))
                {
                    await listen.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                if (connected)
                {
                    PostgresLog.ListenerReconnected(logger);
                }

                connected = true;
                delay = FirstRetryDelay;
                handler.OnTasksAvailable();
                handler.OnSchedulesChanged();
                while (true)
                {
                    // Keepalives on this connection (see PostgresTaskStore) make a dead server show up here as an error.
                    await connection.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                PostgresLog.ListenerFailed(logger, delay, exception);
                try
                {
                    await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            }
        }
    }

    private void Dispatch(ITaskSignalHandler handler, string channel, string payload)
    {
        switch (channel)
        {
            case PostgresChannels.TasksReady when payload != node:
                // Our own inserts already woke our dispatcher in process.
                handler.OnTasksAvailable();
                break;
            case PostgresChannels.Schedules when payload != node:
                // Our own changes already woke our scheduler in process.
                handler.OnSchedulesChanged();
                break;
            case PostgresChannels.Stop:
                var space = payload.IndexOf(' ', StringComparison.Ordinal);
                // Stops of tasks external workers hold go to every node: any of them may be holding the worker's heartbeat.
                if (space > 0
                    && (payload.AsSpan(space + 1).SequenceEqual(node) || payload.AsSpan(space + 1).StartsWith(ExternalHolder.Prefix, StringComparison.Ordinal))
                    && long.TryParse(payload.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out var taskId))
                {
                    handler.OnStopRequested(taskId);
                }

                break;
            case PostgresChannels.Stopped:
                if (long.TryParse(payload, NumberStyles.None, CultureInfo.InvariantCulture, out var stoppedId))
                {
                    handler.OnTaskStopped(stoppedId);
                }

                break;
        }
    }
}
