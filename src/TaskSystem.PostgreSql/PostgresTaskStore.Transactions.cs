using System.Data.Common;
using Npgsql;
using TaskSystem.Storage;

namespace TaskSystem.PostgreSql;

/// <summary>
/// Enqueue inside the application's own transaction: the insert and its NOTIFY run on the app's connection, in its
/// transaction, so PostgreSQL commits both with the app's own writes or neither. A NOTIFY is delivered at commit
/// only; its payload names no node, so every node wakes, the enqueuing one included.
/// </summary>
internal sealed partial class PostgresTaskStore : ITaskStoreTransactions
{
    /// <summary>The payload of a "tasks are ready" signal from an app's transaction: no node ignores it as its own.</summary>
    private const string FromAppTransaction = "";

    public async Task<IReadOnlyList<TaskRecord>> TasksInsertInTransactionAsync(
        TasksInsertParams parameters, DbTransaction transaction, CancellationToken cancellationToken)
    {
        if (transaction is not NpgsqlTransaction { Connection: { } connection } npgsql)
        {
            throw new ArgumentException(
                transaction is NpgsqlTransaction
                    ? "The transaction is already committed or rolled back."
                    : $"The transaction must be an open NpgsqlTransaction on the task database (got {transaction.GetType().Name}).",
                nameof(transaction));
        }

        if (parameters.Tasks.Any(t => t.After is { Length: > 0 }))
        {
            throw new TaskValidationException("after", "after is not supported when enqueuing inside an application's transaction: enqueue the continuation after the commit.");
        }

        // The schema may not exist yet when an app enqueues before the engine started (as it may on its own pool).
        await _database.EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        var tasks = parameters.Tasks;
        await using var batch = new NpgsqlBatch(connection, npgsql);
        PostgresInsertBatcher.AddInsertCommands(batch, tasks);
        var notify = new NpgsqlBatchCommand("SELECT pg_notify(@channel, @payload)");
        notify.Parameters.Add(new NpgsqlParameter<string>("channel", PostgresChannels.TasksReady));
        notify.Parameters.Add(new NpgsqlParameter<string>("payload", FromAppTransaction));
        batch.BatchCommands.Add(notify);
        // Inside the app's transaction nothing is committed yet: throwing lets the app roll back.
        return await PostgresInsertBatcher.ReadInsertedAsync(batch, tasks, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The insert's rows did not match the {tasks.Count} tasks sent.");
    }
}
