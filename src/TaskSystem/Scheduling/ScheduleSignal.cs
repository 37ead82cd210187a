using System.Threading.Channels;

namespace TaskSystem.Scheduling;

/// <summary>
/// Wakes the scheduler when a schedule changed on this node, so it re-reads the schedules and re-arms its timer. It
/// carries nothing: a lost signal costs at most the scheduler's refresh interval, never a tick (ticks are in the store).
/// </summary>
internal sealed class ScheduleSignal
{
    private readonly Channel<bool> _channel = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    public void Changed() => _channel.Writer.TryWrite(true);

    /// <summary>Waits for a change or for <paramref name="timeout"/> on <paramref name="time"/>'s clock.</summary>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        if (_channel.Reader.TryRead(out _) || timeout <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, cancellationToken);
        try
        {
            await _channel.Reader.ReadAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The timer: a tick is due, or it is time to look for changes made on other nodes.
        }
    }
}
