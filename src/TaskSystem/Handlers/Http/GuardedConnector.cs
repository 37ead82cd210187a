using System.Net;
using System.Net.Sockets;

namespace TaskSystem.Handlers.Http;

/// <summary>
/// Opens the TCP connections of http tasks (the <see cref="SocketsHttpHandler.ConnectCallback"/>). It resolves the
/// host itself and refuses non-public addresses right before connecting, so the check holds for the address actually
/// used: a name that resolved to a public address when the task was enqueued and to 127.0.0.1 now (DNS rebinding)
/// is refused now. Every new connection is checked, including those of redirects.
/// </summary>
internal sealed class GuardedConnector(bool allowPrivateNetworks)
{
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host.Trim('[', ']');
        var port = context.DnsEndPoint.Port;
        var addresses = IPAddress.TryParse(host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        var usable = allowPrivateNetworks ? addresses : [.. addresses.Where(a => AddressPolicy.Classify(a) is null)];
        if (usable.Length == 0)
        {
            var first = addresses.FirstOrDefault();
            throw new TargetAddressRefusedException(first is null
                ? $"{host} has no address."
                : $"{host} resolves to {first}, a {AddressPolicy.Classify(first)} address; only public addresses may be called unless {HttpTargetOptions.SectionName}:AllowPrivateNetworks is true.");
        }

        Exception? last = null;
        foreach (var address in usable)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, port), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException exception)
            {
                socket.Dispose();
                last = exception;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw last!;
    }
}

/// <summary>A connection refused by <see cref="AddressPolicy"/>: not a network error, so another attempt cannot help.</summary>
internal sealed class TargetAddressRefusedException(string message) : IOException(message);
