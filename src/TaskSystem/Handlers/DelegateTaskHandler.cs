using System.Text.Json;

namespace TaskSystem.Handlers;

/// <summary>Adapts a lambda registered with <see cref="TaskSystemBuilder.AddHandler(string, Func{TaskContext, CancellationToken, Task}, Action{TaskTypeOptions}?)"/>.</summary>
internal sealed class DelegateTaskHandler(Func<TaskContext, CancellationToken, ValueTask<JsonElement?>> handle) : ITaskHandler
{
    public ValueTask<JsonElement?> HandleAsync(TaskContext context, CancellationToken cancellationToken) =>
        handle(context, cancellationToken);
}
