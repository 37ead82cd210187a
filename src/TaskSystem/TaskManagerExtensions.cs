using System.Text.Json.Serialization.Metadata;

namespace TaskSystem;

/// <summary>Typed enqueues that need no reflection: the payload's metadata comes from a source-generated context.</summary>
public static class TaskManagerExtensions
{
    /// <summary>Adds a task whose payload is <paramref name="payload"/> serialized with <paramref name="typeInfo"/> (trimming and AOT safe).</summary>
    public static Task<TaskInfo> EnqueueAsync<TPayload>(
        this ITaskManager tasks, string type, TPayload payload, JsonTypeInfo<TPayload> typeInfo, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        return tasks.EnqueueAsync(TaskRequest.Create(type, payload, typeInfo), cancellationToken);
    }
}
