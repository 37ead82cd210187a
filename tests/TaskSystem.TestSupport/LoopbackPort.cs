using System.Net;
using System.Net.Sockets;

namespace TaskSystem.TestSupport;

/// <summary>A TCP port on the loopback interface that nothing listens on right now (the OS picks it).</summary>
public static class LoopbackPort
{
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
