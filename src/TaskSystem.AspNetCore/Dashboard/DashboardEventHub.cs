using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading.Channels;

namespace TaskSystem.AspNetCore.Dashboard;

/// <summary>
/// Fans the watcher's events out to every open stream. An event is serialized once, as a complete SSE frame, and
/// shared. Each subscriber holds at most the latest event of each name: every event carries a full snapshot, so a
/// slow client that misses one loses nothing but an intermediate state, and its memory stays bounded. The hub keeps
/// the latest event of each name sent to everyone, so a stream that opens while others are open gets the current
/// state at once, without waiting for the watcher (which may be pausing to keep its share of the machine small).
/// </summary>
internal sealed class DashboardEventHub
{
    /// <summary>More open streams than this are refused (503): each one is a connection and a task on the server.</summary>
    public const int MaxSubscribers = 1000;

    private readonly Lock _gate = new();
    private readonly HashSet<DashboardSubscriber> _subscribers = [];
    /// <summary>The data of the latest event of each name sent to everyone, to start new streams with.</summary>
    private readonly Dictionary<string, string> _latest = new(StringComparer.Ordinal);
    private readonly Channel<bool> _poke = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private long _lastId;
    private int _overviewWanted;

    /// <summary>How many streams are open.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _subscribers.Count;
            }
        }
    }

    /// <summary>
    /// A new stream, or null when <see cref="MaxSubscribers"/> are open. It gets the latest <c>stats</c> and
    /// <c>overview</c> at once (as events of its own, in that order) when the hub has both because other streams are
    /// open; else the current state at the watcher's next tick.
    /// </summary>
    public DashboardSubscriber? Subscribe()
    {
        DashboardSubscriber subscriber;
        lock (_gate)
        {
            if (_subscribers.Count >= MaxSubscribers)
            {
                return null;
            }

            subscriber = new DashboardSubscriber(this);
            _subscribers.Add(subscriber);
            if (_latest.TryGetValue("stats", out var stats) && _latest.TryGetValue("overview", out var overview))
            {
                subscriber.Offer(Frame("stats", stats));
                subscriber.Offer(Frame("overview", overview));
                subscriber.IsNew = false;
            }
        }

        Poke();
        return subscriber;
    }

    /// <summary>Drops the latest events: nobody watches, so they will age; the next stream waits for fresh ones.</summary>
    public void Forget()
    {
        lock (_gate)
        {
            _latest.Clear();
        }
    }

    internal void Remove(DashboardSubscriber subscriber)
    {
        lock (_gate)
        {
            _subscribers.Remove(subscriber);
        }
    }

    /// <summary>Asks the watcher to look now rather than at its next tick (after a write, or for a new stream).</summary>
    public void Poke() => _poke.Writer.TryWrite(true);

    /// <summary>
    /// Something the overview shows changed without changing the counts (a queue paused or resumed): the watcher reads
    /// a new overview at its next chance, as it does when the counts move.
    /// </summary>
    public void PokeOverview()
    {
        Volatile.Write(ref _overviewWanted, 1);
        Poke();
    }

    /// <summary>Whether <see cref="PokeOverview"/> was called since the last time this was asked.</summary>
    public bool TakeOverviewWanted() => Interlocked.Exchange(ref _overviewWanted, 0) == 1;

    /// <summary>Waits for a poke, at most <paramref name="timeout"/>; true when poked.</summary>
    public Task<bool> WaitForPokeAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken) =>
        WaitSignalAsync(_poke.Reader, timeout, time, cancellationToken);

    /// <summary>Consumes a signal, waiting for it at most <paramref name="timeout"/>; false on timeout.</summary>
    internal static async Task<bool> WaitSignalAsync(ChannelReader<bool> signal, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        if (signal.TryRead(out _))
        {
            return true;
        }

        using var timer = new CancellationTokenSource(timeout, time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            await signal.WaitToReadAsync(deadline.Token);
            return signal.TryRead(out _);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Streams that have not had their first snapshot yet; they are marked as served.</summary>
    public IReadOnlyList<DashboardSubscriber> TakeNewSubscribers()
    {
        lock (_gate)
        {
            var fresh = _subscribers.Where(s => s.IsNew).ToList();
            foreach (var subscriber in fresh)
            {
                subscriber.IsNew = false;
            }

            return fresh;
        }
    }

    /// <summary>A complete SSE frame with the next id; called under the lock.</summary>
    private DashboardEvent Frame(string name, string json) =>
        new(name, Encoding.UTF8.GetBytes($"id: {++_lastId}\nevent: {name}\ndata: {json}\n\n"));

    /// <summary>Serializes an event once and offers it to <paramref name="to"/>, or to every stream when null.</summary>
    public void Publish<T>(string name, T data, JsonTypeInfo<T> type, IReadOnlyList<DashboardSubscriber>? to = null)
    {
        var json = JsonSerializer.Serialize(data, type);
        DashboardEvent frame;
        List<DashboardSubscriber> targets;
        lock (_gate)
        {
            // Ids are taken under the lock, so every stream sees them increase, new streams' first events included.
            frame = Frame(name, json);
            if (to is null)
            {
                _latest[name] = json;
                targets = [.. _subscribers];
            }
            else
            {
                targets = [.. to];
            }
        }

        foreach (var subscriber in targets)
        {
            subscriber.Offer(frame);
        }
    }
}

/// <summary>One SSE frame, ready to write.</summary>
internal sealed record DashboardEvent(string Name, byte[] Frame);

/// <summary>One open stream: the latest event of each name, waiting to be written.</summary>
internal sealed class DashboardSubscriber : IDisposable
{
    private readonly DashboardEventHub _hub;
    private readonly Lock _gate = new();
    private readonly List<DashboardEvent> _pending = [];
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public DashboardSubscriber(DashboardEventHub hub) => _hub = hub;

    /// <summary>True until the watcher has sent this stream its first snapshot.</summary>
    internal bool IsNew { get; set; } = true;

    /// <summary>Keeps the event, replacing a pending one of the same name (coalescing), and wakes the writer.</summary>
    public void Offer(DashboardEvent item)
    {
        lock (_gate)
        {
            _pending.RemoveAll(e => e.Name == item.Name);
            _pending.Add(item);
        }

        _signal.Writer.TryWrite(true);
    }

    /// <summary>The pending events, oldest first; empty when none.</summary>
    public IReadOnlyList<DashboardEvent> Take()
    {
        lock (_gate)
        {
            if (_pending.Count == 0)
            {
                return [];
            }

            var events = _pending.ToList();
            _pending.Clear();
            return events;
        }
    }

    /// <summary>Waits until an event is pending, at most <paramref name="timeout"/>; false on timeout.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken) =>
        DashboardEventHub.WaitSignalAsync(_signal.Reader, timeout, time, cancellationToken);

    public void Dispose() => _hub.Remove(this);
}
