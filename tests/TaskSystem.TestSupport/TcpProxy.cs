using System.Net;
using System.Net.Sockets;

namespace TaskSystem.TestSupport;

/// <summary>
/// A TCP forwarder on a loopback port, in process, that a test can cut: one node reaches the database through it,
/// so the test can take that node off the network while every other client keeps its own path.
/// <see cref="Cut"/> behaves as a partition, not as a refusal: nothing is answered, bytes sent either way are
/// dropped, and new connections are accepted and then hear nothing, so the client sees calls that hang rather than
/// fail. <see cref="Restore"/> resets the connections the cut left hanging (as a router that comes back does: their
/// state is gone) and forwards new ones again.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly EndPoint _target;
    private readonly CancellationTokenSource _closing = new();
    private readonly List<Link> _links = [];
    private readonly Task _accepting;
    private volatile bool _cut;

    private TcpProxy(EndPoint target)
    {
        _target = target;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    /// <summary>The loopback port clients connect to.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>True while the path is cut.</summary>
    public bool IsCut => _cut;

    /// <summary>Starts forwarding to a host and port.</summary>
    public static TcpProxy Start(string host, int port) => new(IPAddress.TryParse(host, out var address) ? new IPEndPoint(address, port) : new DnsEndPoint(host, port));

    /// <summary>From now on nothing passes, either way, on any connection old or new.</summary>
    public void Cut()
    {
        lock (_links)
        {
            _cut = true;
            foreach (var link in _links)
            {
                link.Frozen = true;
            }
        }
    }

    /// <summary>Resets every connection the cut froze, and forwards new connections again.</summary>
    public void Restore()
    {
        List<Link> frozen;
        lock (_links)
        {
            _cut = false;
            frozen = _links.Where(l => l.Frozen).ToList();
            _links.RemoveAll(l => l.Frozen);
        }

        foreach (var link in frozen)
        {
            link.Reset();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Closing.
        }

        List<Link> links;
        lock (_links)
        {
            links = [.. _links];
            _links.Clear();
        }

        foreach (var link in links)
        {
            link.Reset();
        }

        _closing.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_closing.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_closing.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => ConnectAsync(client));
        }
    }

    private async Task ConnectAsync(Socket client)
    {
        var link = new Link(client);
        lock (_links)
        {
            _links.Add(link);
            if (_cut)
            {
                // Accepted, and then silence: the client's handshake is never answered.
                link.Frozen = true;
                return;
            }
        }

        try
        {
            await link.Server.ConnectAsync(_target, _closing.Token);
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            link.Reset();
            return;
        }

        _ = PumpAsync(link, link.Client, link.Server);
        _ = PumpAsync(link, link.Server, link.Client);
    }

    /// <summary>Copies one direction until either side closes; while the link is frozen, what arrives is dropped.</summary>
    private async Task PumpAsync(Link link, Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None);
                if (read == 0)
                {
                    break;
                }

                if (link.Frozen)
                {
                    continue;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
            }
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // The other direction or a reset ended the link.
        }

        if (!link.Frozen)
        {
            link.Reset();
            lock (_links)
            {
                _links.Remove(link);
            }
        }
    }

    private sealed class Link(Socket client)
    {
        private int _reset;
        private volatile bool _frozen;

        public Socket Client { get; } = client;

        public Socket Server { get; } = new(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };

        public bool Frozen
        {
            get => _frozen;
            set => _frozen = value;
        }

        /// <summary>Closes both sides with a reset (no orderly goodbye), once.</summary>
        public void Reset()
        {
            if (Interlocked.Exchange(ref _reset, 1) == 1)
            {
                return;
            }

            foreach (var socket in new[] { Client, Server })
            {
                try
                {
                    socket.LingerState = new LingerOption(true, 0);
                    socket.Close();
                }
                catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
                {
                    // Already closed.
                }
            }
        }
    }
}
