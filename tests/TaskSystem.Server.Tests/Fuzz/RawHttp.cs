using System.Net.Sockets;
using System.Text;

namespace TaskSystem.Server.Tests.Fuzz;

/// <summary>What came back on a raw connection: the status (0 when the server closed without answering) and the head.</summary>
public sealed record RawResponse(int Status, string Head)
{
    public string? Header(string name) =>
        Head.Split("\r\n").Skip(1).Select(line => line.Split(':', 2)).FirstOrDefault(parts => parts.Length == 2 && parts[0].Equals(name, StringComparison.OrdinalIgnoreCase))?[1].Trim();
}

/// <summary>Sends bytes on a fresh TCP connection and reads the response's head: HttpClient would refuse to send malformed requests.</summary>
public static class RawHttp
{
    /// <summary>
    /// Sends the request and reads the answer's head. <paramref name="endOfInput"/> closes the sending side after the
    /// request, so that the server sees the end of a request that will never be complete instead of waiting for more.
    /// </summary>
    public static async Task<RawResponse> SendAsync(Uri server, byte[] request, TimeSpan timeout, bool endOfInput = false)
    {
        using var deadline = new CancellationTokenSource(timeout);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.Host, server.Port, deadline.Token);
        try
        {
            await socket.SendAsync(request, SocketFlags.None, deadline.Token);
        }
        catch (SocketException)
        {
            // The server answered (431, 400) and closed before taking the whole request: read what it said.
        }

        if (endOfInput)
        {
            try
            {
                socket.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
                // Already closed by the server.
            }
        }

        var received = new MemoryStream();
        var buffer = new byte[8192];
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
                if (read == 0)
                {
                    break;
                }

                received.Write(buffer, 0, read);
                var text = Encoding.Latin1.GetString(received.GetBuffer(), 0, (int)received.Length);
                if (text.Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    break;
                }
            }
        }
        catch (SocketException)
        {
            // Reset after the response: what was read is enough.
        }

        var head = Encoding.Latin1.GetString(received.GetBuffer(), 0, (int)received.Length);
        var end = head.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        head = end < 0 ? head : head[..end];
        var status = head.StartsWith("HTTP/1.", StringComparison.Ordinal) && head.Length >= 12 && int.TryParse(head.AsSpan(9, 3), out var code) ? code : 0;
        return new RawResponse(status, head);
    }
}
