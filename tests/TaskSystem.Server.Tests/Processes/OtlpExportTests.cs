using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using TaskSystem.Server.Tests.Support;

namespace TaskSystem.Server.Tests.Processes;

/// <summary>With the standard OTEL_EXPORTER_OTLP_* settings, the real server exports its traces and metrics by OTLP.</summary>
public sealed class OtlpExportTests
{
    [Fact]
    public async Task OtlpEndpointSet_TracesAndMetricsOfRealWork_ReachTheCollector()
    {
        using var collector = new FakeCollector();
        using var directory = new TempDirectory();
        await using var server = await ServerProcess.StartAsync(
            "--TaskSystem:ConnectionString", directory.SqliteConnectionString,
            "--OTEL_EXPORTER_OTLP_ENDPOINT", collector.Address,
            "--OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf",
            "--OTEL_METRIC_EXPORT_INTERVAL", "200",
            "--OTEL_BSP_SCHEDULE_DELAY", "100");

        var task = await server.Client.PostTaskAsync("""{"type": "demo", "payload": {"durationMs": 0}}""");
        await server.Client.WaitForStateAsync(task.Id(), "succeeded");

        await Eventually.Until(
            () => collector.Received("/v1/traces", "run demo") && collector.Received("/v1/traces", "enqueue demo")
                && collector.Received("/v1/metrics", "tasksystem.tasks.succeeded"),
            because: "the run span and the metrics to be exported");
    }

    /// <summary>An OTLP/HTTP receiver that keeps each request's path and body (protobuf keeps strings as UTF-8).</summary>
    private sealed class FakeCollector : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly ConcurrentQueue<(string Path, string Body)> _requests = new();

        public FakeCollector()
        {
            Address = $"http://127.0.0.1:{TaskSystem.TestSupport.LoopbackPort.Free()}";
            _listener.Prefixes.Add(Address + "/");
            _listener.Start();
            _ = Task.Run(ServeAsync);
        }

        public string Address { get; }

        public bool Received(string path, string text) =>
            _requests.Any(r => r.Path == path && r.Body.Contains(text, StringComparison.Ordinal));

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                try
                {
                    var context = await _listener.GetContextAsync();
                    using var body = new MemoryStream();
                    await context.Request.InputStream.CopyToAsync(body);
                    _requests.Enqueue((context.Request.Url!.AbsolutePath, Encoding.Latin1.GetString(body.ToArray())));
                    context.Response.StatusCode = 200;
                    context.Response.Close();
                }
                catch (Exception exception) when (exception is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
            }
        }


        public void Dispose() => _listener.Close();
    }
}
