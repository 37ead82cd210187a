using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TaskSystem.Benchmarks.Support;

/// <summary>
/// A small HTTP/1.1 load generator on raw sockets: N keep-alive connections, each sending one request after the
/// other. Far cheaper per request than HttpClient, so that on a small machine the server, not the client, is measured.
/// </summary>
internal static class HttpLoad
{
    public static async Task<HttpLoadResult> RunAsync(IPEndPoint server, string path, string body, int connections, TimeSpan duration)
    {
        var request = Encoding.ASCII.GetBytes(
            $"POST {path} HTTP/1.1\r\nHost: {server}\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}");
        var latencies = new Latencies();
        var statuses = new int[600];
        long completed = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async _ =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(server);
            var reader = new ResponseReader(socket);
            while (clock.Elapsed < duration)
            {
                var start = Stopwatch.GetTimestamp();
                await socket.SendAsync(request, SocketFlags.None);
                var status = await reader.ReadResponseAsync();
                latencies.Add(Stopwatch.GetElapsedTime(start));
                Interlocked.Increment(ref statuses[status]);
                Interlocked.Increment(ref completed);
            }
        }));
        return new HttpLoadResult(completed / clock.Elapsed.TotalSeconds, latencies, statuses
            .Select((count, status) => (status, count)).Where(s => s.count > 0).ToDictionary(s => s.status, s => s.count));
    }

    /// <summary>Reads one response at a time: status line, headers, then a Content-Length or chunked body.</summary>
    private sealed class ResponseReader(Socket socket)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        public async Task<int> ReadResponseAsync()
        {
            var headerEnd = await FindAsync("\r\n\r\n"u8.ToArray());
            var headers = Encoding.ASCII.GetString(_buffer, _start, headerEnd - _start);
            _start = headerEnd + 4;
            var status = int.Parse(headers.AsSpan(9, 3), provider: System.Globalization.CultureInfo.InvariantCulture);
            var lengthLine = headers.Split("\r\n").FirstOrDefault(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
            if (lengthLine is not null)
            {
                await SkipAsync(int.Parse(lengthLine.AsSpan(15).Trim(), provider: System.Globalization.CultureInfo.InvariantCulture));
            }
            else if (headers.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            {
                while (true)
                {
                    var lineEnd = await FindAsync("\r\n"u8.ToArray());
                    var size = Convert.ToInt32(Encoding.ASCII.GetString(_buffer, _start, lineEnd - _start).Split(';')[0], 16);
                    _start = lineEnd + 2;
                    await SkipAsync(size + 2);
                    if (size == 0)
                    {
                        break;
                    }
                }
            }

            return status;
        }

        private async Task<int> FindAsync(byte[] marker)
        {
            while (true)
            {
                var index = _buffer.AsSpan(_start, _end - _start).IndexOf(marker);
                if (index >= 0)
                {
                    return _start + index;
                }

                await FillAsync();
            }
        }

        private async Task SkipAsync(int count)
        {
            while (_end - _start < count)
            {
                await FillAsync();
            }

            _start += count;
        }

        private async Task FillAsync()
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            var read = await socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None);
            if (read == 0)
            {
                throw new IOException("The server closed the connection.");
            }

            _end += read;
        }
    }
}

internal sealed record HttpLoadResult(double Rate, Latencies Latencies, IReadOnlyDictionary<int, int> Statuses);
