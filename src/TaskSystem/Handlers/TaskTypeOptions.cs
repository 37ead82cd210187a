using TaskSystem.Configuration;

namespace TaskSystem;

/// <summary>
/// Defaults of one task type, set where the type is registered (<c>AddHandler</c>, <c>AddTaskType</c>). A request's
/// own value wins; then these; then the node's <see cref="TaskSystemOptions"/>. Queue, priority, attempts and timeout
/// are applied when a task is enqueued, by the process that enqueues it (so a producer-only app declares them with
/// <c>AddTaskType</c>); the retry delays when an attempt fails, by the node that ran it.
/// </summary>
public sealed class TaskTypeOptions
{
    /// <summary>The queue of tasks of this type enqueued without one. Default: <see cref="TaskSystemOptions.DefaultQueue"/>.</summary>
    public string? Queue { get; set; }

    /// <summary>Their priority (-1000 to 1000, lower runs first). Default 0.</summary>
    public int? Priority { get; set; }

    /// <summary>Their attempts (1 to 1000). Default: <see cref="TaskSystemOptions.DefaultMaxAttempts"/>.</summary>
    public int? MaxAttempts { get; set; }

    /// <summary>How long one attempt may run. Default: <see cref="TaskSystemOptions.DefaultTimeout"/>.</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>The first retry's delay, doubled for each later one, ±50% jitter. Default: <see cref="TaskSystemOptions.RetryBaseDelay"/>.</summary>
    public TimeSpan? RetryBaseDelay { get; set; }

    /// <summary>The longest retry delay. Default: <see cref="TaskSystemOptions.RetryMaxDelay"/>.</summary>
    public TimeSpan? RetryMaxDelay { get; set; }

    /// <summary>A frozen copy, checked: an invalid default fails at registration, naming the type and the setting.</summary>
    internal TaskTypeDefaults ToDefaults(string type)
    {
        string? error = null;
        if (Queue is not null && TaskRules.CheckQueue(Queue) is { } queueError)
        {
            error = queueError;
        }
        else if (Priority is < TaskRules.MinPriority or > TaskRules.MaxPriority)
        {
            error = $"Priority must be between {TaskRules.MinPriority} and {TaskRules.MaxPriority} (got {Priority}).";
        }
        else if (MaxAttempts is < 1 or > TaskRules.MaxAttempts)
        {
            error = $"MaxAttempts must be between 1 and {TaskRules.MaxAttempts} (got {MaxAttempts}).";
        }
        else if (Timeout is { } timeout && (timeout < TimeSpan.FromMilliseconds(1) || timeout > TaskRules.MaxTimeout))
        {
            error = $"Timeout must be between 1 ms and {TaskRules.MaxTimeout} (got {timeout}).";
        }
        else if (RetryBaseDelay is { } retryBase && (retryBase <= TimeSpan.Zero || retryBase > TimeSpan.FromDays(1)))
        {
            error = $"RetryBaseDelay must be more than zero and at most a day (got {retryBase}).";
        }
        else if (RetryMaxDelay is { } retryMax && (retryMax <= TimeSpan.Zero || retryMax > TimeSpan.FromDays(7)))
        {
            error = $"RetryMaxDelay must be more than zero and at most 7 days (got {retryMax}).";
        }
        else if (RetryBaseDelay is { } b && RetryMaxDelay is { } m && m < b)
        {
            error = $"RetryMaxDelay ({m}) must not be shorter than RetryBaseDelay ({b}).";
        }

        return error is null
            ? new TaskTypeDefaults(Queue, Priority, MaxAttempts, Timeout, RetryBaseDelay, RetryMaxDelay)
            : throw new ArgumentException($"Task type '{type}': {error}");
    }
}

/// <summary>A type's defaults as registered (null where the node's settings apply).</summary>
internal sealed record TaskTypeDefaults(
    string? Queue, int? Priority, int? MaxAttempts, TimeSpan? Timeout, TimeSpan? RetryBaseDelay, TimeSpan? RetryMaxDelay);
