using System.Threading.Channels;

namespace TaskSystem.Engine;

/// <summary>
/// Wakes the dispatcher: an auto-reset signal (any number of <see cref="Set"/> calls wake one wait once) plus the
/// earliest time something is known to come due. It carries no work: the store says what to do, so a lost or
/// extra signal costs at most one poll, never a task.
/// </summary>
internal sealed class WakeSignal
{
    private readonly Channel<bool> _channel = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private readonly EarliestDue _due = new();

    public void Set() => _channel.Writer.TryWrite(true);

    /// <summary>Makes the next wait end no later than <paramref name="dueAt"/> (a retry's time, say).</summary>
    public void WakeAt(DateTimeOffset dueAt)
    {
        if (_due.MoveEarlier(dueAt))
        {
            // A waiter may be sleeping past the new due time: let it recompute.
            Set();
        }
    }

    /// <summary>Waits for a signal, a due time, or <paramref name="maxWait"/>; false when no signal came.</summary>
    public async Task<bool> WaitAsync(TimeSpan maxWait, TimeProvider time, CancellationToken cancellationToken)
    {
        if (_channel.Reader.TryRead(out _))
        {
            return true;
        }

        using var timeoutSource = _due.StartTimeout(maxWait, time);
        if (timeoutSource is null)
        {
            return false;
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeoutSource.Token, cancellationToken);
        try
        {
            await _channel.Reader.ReadAsync(linked.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
