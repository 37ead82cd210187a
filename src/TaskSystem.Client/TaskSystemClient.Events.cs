using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace TaskSystem.Client;

public sealed partial class TaskSystemClient
{
    /// <summary>Where the server streams its events, relative to the base address (the server maps its dashboard at the root).</summary>
    public const string DefaultEventsPath = "dashboard/api/events";

    /// <summary>
    /// The server's event stream (server-sent events), as it comes: first a <c>stats</c> and an <c>overview</c> event
    /// with the current figures, then a <c>stats</c> event whenever the tasks per state change, an <c>overview</c>
    /// event as the queues and nodes change, and a <c>progress</c> event when running tasks report progress. The
    /// enumeration ends when the server closes the stream (it stops, say); it does not reconnect.
    /// </summary>
    /// <param name="path">The stream's path, when the server maps its dashboard elsewhere than the root.</param>
    /// <param name="cancellationToken">Ends the enumeration and closes the stream.</param>
    /// <exception cref="TaskSystemApiException">401 with a wrong key; 503 when the server serves its most streams already.</exception>
    public async IAsyncEnumerable<TaskSystemEvent> WatchEventsAsync(string path = DefaultEventsPath, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        // Headers only: the body is read as it arrives, for as long as the stream stays open.
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await ThrowIfProblemAsync(response, cancellationToken).ConfigureAwait(false);
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var parser = SseParser.Create(stream, ParseData);
            await foreach (var item in parser.EnumerateAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return new TaskSystemEvent(item.EventType, item.EventId, item.Data);
            }
        }
    }

    /// <summary>
    /// The task each time it changes (state, attempt, progress, a stop request), driven by the event stream: the first
    /// item is the task as it is now, the last one the task once finished, after which the enumeration ends. The
    /// stream is reopened if the server closes it before then.
    /// </summary>
    /// <exception cref="TaskSystemApiException">404 when there is no such task; 401 with a wrong key.</exception>
    public async IAsyncEnumerable<TaskSystemTask> WatchTaskAsync(long id, string eventsPath = DefaultEventsPath, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        TaskSystemTask? last = null;
        while (true)
        {
            // Every event may mean a change (a stats event comes when the tasks per state change, a progress event when
            // progress was reported): the task is read again on each, and reported when it differs. The stream's first
            // event comes at once, so a task that finished before the stream opened is seen too.
            await foreach (var _ in WatchEventsAsync(eventsPath, cancellationToken).ConfigureAwait(false))
            {
                var task = await GetAsync(id, cancellationToken).ConfigureAwait(false);
                if (last is null || Changed(last, task))
                {
                    last = task;
                    yield return task;
                }

                if (task.IsFinished)
                {
                    yield break;
                }
            }
        }
    }

    private static bool Changed(TaskSystemTask before, TaskSystemTask now) =>
        before.State != now.State || before.Attempt != now.Attempt || before.StopRequested != now.StopRequested
        || before.Progress?.Percent != now.Progress?.Percent || before.Progress?.Message != now.Progress?.Message;

    /// <summary>An event's data: JSON as the server writes it; anything else as a JSON string.</summary>
    private static JsonElement ParseData(string eventType, ReadOnlySpan<byte> data)
    {
        var reader = new Utf8JsonReader(data);
        return JsonElement.TryParseValue(ref reader, out var element) && reader.BytesConsumed == data.Length
            ? element.Value
            : JsonSerializer.SerializeToElement(System.Text.Encoding.UTF8.GetString(data));
    }
}
