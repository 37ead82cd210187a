using System.Text.Json;

namespace TaskSystem;

/// <summary>
/// Runs tasks of one type. Resolved from a dependency-injection scope created for each attempt,
/// so a handler may take scoped services. Register one with
/// <see cref="TaskSystemBuilder.AddHandler{THandler}(Action{TaskTypeOptions}?)"/>.
/// </summary>
public interface ITaskHandler
{
    /// <summary>
    /// Runs one attempt. Honour <paramref name="cancellationToken"/>: it fires when the task is stopped,
    /// times out, or the node shuts down. Throw to fail the attempt (it is retried while attempts remain).
    /// </summary>
    /// <returns>The task's result as JSON, or null for none.</returns>
    ValueTask<JsonElement?> HandleAsync(TaskContext context, CancellationToken cancellationToken);
}

/// <summary>
/// Optionally implemented by a handler to reject a bad payload when the task is enqueued,
/// instead of failing every attempt later.
/// </summary>
public interface ITaskPayloadValidator
{
    /// <summary>Returns a message that says what is wrong with the payload, or null when it is fine.</summary>
    string? Validate(JsonElement payload);
}
