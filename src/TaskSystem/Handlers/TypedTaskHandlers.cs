using System.Text.Json;

namespace TaskSystem;

/// <summary>
/// Runs tasks whose payload is a <typeparamref name="TPayload"/>, and that return no result. The payload is read
/// with the app's JSON settings (web defaults; its source-generated contexts from
/// <see cref="TaskSystemBuilder.AddJsonTypeInfoResolver"/>), and checked at enqueue: a payload that does not fit is
/// refused then (a 400 on the HTTP API), not failed on every attempt. Register it with
/// <see cref="TaskSystemBuilder.AddHandler{THandler}(Action{TaskTypeOptions}?)"/>.
/// </summary>
/// <typeparam name="TPayload">The payload's type.</typeparam>
public interface ITaskHandler<TPayload> : ITaskHandler
{
    /// <summary>
    /// Runs one attempt. Honour <paramref name="cancellationToken"/>: it fires when the task is stopped, times out,
    /// or the node shuts down. Throw to fail the attempt (it is retried while attempts remain).
    /// </summary>
    ValueTask HandleAsync(TPayload payload, TaskContext context, CancellationToken cancellationToken);

    async ValueTask<JsonElement?> ITaskHandler.HandleAsync(TaskContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        await HandleAsync(TypedPayload.Read<TPayload>(context), context, cancellationToken).ConfigureAwait(false);
        return null;
    }
}

/// <summary>
/// Runs tasks whose payload is a <typeparamref name="TPayload"/> and whose result, stored with the task, is a
/// <typeparamref name="TResult"/>. Both go through the app's JSON settings, as for <see cref="ITaskHandler{TPayload}"/>.
/// </summary>
/// <typeparam name="TPayload">The payload's type.</typeparam>
/// <typeparam name="TResult">The result's type.</typeparam>
public interface ITaskHandler<TPayload, TResult> : ITaskHandler
{
    /// <summary>Runs one attempt and returns the task's result (see <see cref="ITaskHandler{TPayload}.HandleAsync"/>).</summary>
    ValueTask<TResult> HandleAsync(TPayload payload, TaskContext context, CancellationToken cancellationToken);

    async ValueTask<JsonElement?> ITaskHandler.HandleAsync(TaskContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var result = await HandleAsync(TypedPayload.Read<TPayload>(context), context, cancellationToken).ConfigureAwait(false);
        return JsonSerializer.SerializeToElement(result, context.Json.TypeInfo<TResult>());
    }
}

/// <summary>Reads a typed handler's payload.</summary>
internal static class TypedPayload
{
    public static T Read<T>(TaskContext context) =>
        context.GetPayload(context.Json.TypeInfo<T>())
        ?? throw new TaskFailedException($"The payload of task {context.Id} is null; a {typeof(T).Name} was expected.");
}
