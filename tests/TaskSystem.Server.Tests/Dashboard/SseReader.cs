using System.Text;
using System.Text.Json;

namespace TaskSystem.Server.Tests.Dashboard;

/// <summary>One server-sent event as a client sees it.</summary>
public sealed record SseEvent(string? Id, string Name, string Data)
{
    public JsonElement Json => JsonDocument.Parse(Data).RootElement;
}

/// <summary>Reads a text/event-stream response: events, comments and the retry field, in order.</summary>
public sealed class SseReader(Stream stream) : IDisposable
{
    private readonly StreamReader _reader = new(stream, Encoding.UTF8);

    public int? Retry { get; private set; }

    public List<string> Comments { get; } = [];

    /// <summary>The next event, or null when the stream ends.</summary>
    public async Task<SseEvent?> NextAsync(CancellationToken cancellationToken)
    {
        string? id = null;
        string? name = null;
        var data = new List<string>();
        while (await _reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Count > 0)
                {
                    return new SseEvent(id, name ?? "message", string.Join('\n', data));
                }

                continue;
            }

            if (line.StartsWith(':'))
            {
                Comments.Add(line[1..].Trim());
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "id": id = value; break;
                case "event": name = value; break;
                case "data": data.Add(value); break;
                case "retry": Retry = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
            }
        }

        return null;
    }

    /// <summary>Reads events until one matches, within the deadline.</summary>
    public async Task<SseEvent> UntilAsync(Func<SseEvent, bool> match, TimeSpan timeout, string because)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            while (await NextAsync(deadline.Token) is { } item)
            {
                if (match(item))
                {
                    return item;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        throw new TimeoutException($"No event within {timeout}: {because}");
    }

    public void Dispose() => _reader.Dispose();
}
