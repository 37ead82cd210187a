using System.Text.Json;

namespace TaskSystem.Client;

/// <summary>One server-sent event of <see cref="TaskSystemClient.WatchEventsAsync"/>.</summary>
/// <param name="Name"><c>stats</c> (tasks per state: <c>{"time", "newestId", "total", "counts"}</c>), <c>overview</c> (queues, nodes, throughput) or <c>progress</c> (<c>{"time", "tasks": [{"id", "percent", "message", "at", "attempt"}]}</c>).</param>
/// <param name="Id">The event's id, or null.</param>
/// <param name="Data">Its data.</param>
public sealed record TaskSystemEvent(string Name, string? Id, JsonElement Data);
