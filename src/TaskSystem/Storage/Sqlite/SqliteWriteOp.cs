namespace TaskSystem.Storage.Sqlite;

/// <summary>
/// One unit of work for the writer. It runs inside a transaction shared with other operations
/// (group commit), and its caller is answered only after that transaction commits.
/// </summary>
internal abstract class SqliteWriteOp
{
    /// <summary>
    /// A single statement is atomic by itself; anything longer runs inside a savepoint so that its failure
    /// does not undo the other operations sharing the transaction. When the work around a single statement throws
    /// after the statement changed rows, the writer undoes the whole transaction and runs the others again, each in
    /// a savepoint: a caller told "failed" never has its write committed.
    /// </summary>
    public abstract bool SingleStatement { get; }

    /// <summary>
    /// The caller's answer promises durability (an accepted task, a stop, a retry): its commit must be fsync'd.
    /// Claims and outcomes need not be: losing one to a power cut only means the task runs again (at-least-once).
    /// </summary>
    public abstract bool Durable { get; }

    /// <summary>It adds tasks: refused while the volume has no room left above the store's reserve (<see cref="SqliteVolume"/>).</summary>
    public abstract bool Grows { get; }

    /// <summary>Runs the work. It may run again after <see cref="Reset"/>, when its transaction was undone and run again.</summary>
    public abstract void Execute(SqliteWriteContext context);

    /// <summary>Forgets the result and failure of a run whose transaction was rolled back, before running it again.</summary>
    public abstract void Reset();

    /// <summary>Remembers a failure; the caller sees it after the batch ends.</summary>
    public abstract void MarkFailed(Exception exception);

    /// <summary>Answers the caller: called only after the commit (or the failure of the whole batch).</summary>
    public abstract void Publish();
}

internal sealed class SqliteWriteOp<T>(Func<SqliteWriteContext, T> work, bool singleStatement, bool durable, bool grows) : SqliteWriteOp
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T? _result;
    private Exception? _failure;

    public Task<T> Task => _completion.Task;

    public override bool SingleStatement => singleStatement;

    public override bool Durable => durable;

    public override bool Grows => grows;

    public override void Execute(SqliteWriteContext context) => _result = work(context);

    public override void Reset()
    {
        _result = default;
        _failure = null;
    }

    public override void MarkFailed(Exception exception) => _failure ??= exception;

    public override void Publish()
    {
        if (_failure is not null)
        {
            _completion.TrySetException(_failure);
        }
        else
        {
            _completion.TrySetResult(_result!);
        }
    }
}
