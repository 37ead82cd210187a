using System.Data.Common;

namespace TaskSystem.Storage;

/// <summary>
/// A store that can insert tasks inside a transaction the application opened on the same database (PostgreSQL).
/// Optional, like <see cref="ITaskNotifier"/>: SQLite's file belongs to TaskSystem alone, so no app transaction can
/// hold it.
/// </summary>
internal interface ITaskStoreTransactions
{
    /// <summary>
    /// Inserts tasks with the app's <paramref name="transaction"/>, and returns them with ids, in order. Nothing is
    /// committed here: the rows, and the "tasks are ready" signal to every node (this one included), exist if and only
    /// if the app commits. Cost: one round trip on the app's connection, whatever the number of tasks.
    /// </summary>
    /// <exception cref="ArgumentException">The transaction is not one of this store's database, or is finished.</exception>
    Task<IReadOnlyList<TaskRecord>> TasksInsertInTransactionAsync(TasksInsertParams parameters, DbTransaction transaction, CancellationToken cancellationToken);
}
