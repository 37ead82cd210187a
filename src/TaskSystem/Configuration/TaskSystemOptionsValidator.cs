using Microsoft.Extensions.Options;

namespace TaskSystem.Configuration;

/// <summary>Checks every setting at start, with a message that names the setting, the rule and the value found.</summary>
internal sealed class TaskSystemOptionsValidator(IEnumerable<StoreProvider> providers) : IValidateOptions<TaskSystemOptions>
{
    public ValidateOptionsResult Validate(string? name, TaskSystemOptions options)
    {
        var errors = new List<string>();
        var known = providers.Select(p => p.Name).Prepend(StoreProvider.Sqlite).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var provider = StoreProvider.Effective(options, providers);
        if (!known.Contains(provider, StringComparer.OrdinalIgnoreCase))
        {
            var hint = string.Equals(provider, "postgres", StringComparison.OrdinalIgnoreCase) ? " (the PostgreSQL store needs UsePostgreSql() from the TaskSystem.PostgreSql package)" : "";
            errors.Add($"TaskSystem:Provider must be one of {string.Join(", ", known)} (got '{provider}'){hint}.");
        }

        if (!string.Equals(provider, StoreProvider.Sqlite, StringComparison.OrdinalIgnoreCase) && string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            errors.Add($"TaskSystem:ConnectionString is required for the {provider} provider.");
        }

        Range(errors, "Concurrency", options.Concurrency, 0, 1024);
        Engine.QueueLimits.Validate(options, errors);
        Range(errors, "MaxPoolSize", options.MaxPoolSize, 2, 1000);
        Range(errors, "DefaultMaxAttempts", options.DefaultMaxAttempts, 1, TaskRules.MaxAttempts);
        Range(errors, "MaxPayloadBytes", options.MaxPayloadBytes, 2, 64 * 1024 * 1024);
        Range(errors, "MaxJsonDepth", options.MaxJsonDepth, 2, 256);
        Range(errors, "RetentionBatchSize", options.RetentionBatchSize, 1, 100_000);
        Range(errors, "MaxQueued", options.MaxQueued, 0, int.MaxValue);
        Range(errors, "MaxBatchSize", options.MaxBatchSize, 1, 100_000);
        Range(errors, "MaxParents", options.MaxParents, 1, 10_000);
        if (string.IsNullOrWhiteSpace(options.NodeName) || options.NodeName.Length > 200)
        {
            errors.Add($"TaskSystem:NodeName must be 1 to 200 characters (got '{options.NodeName}').");
        }

        if (TaskRules.CheckQueue(options.DefaultQueue) is { } queueError)
        {
            errors.Add($"TaskSystem:DefaultQueue: {queueError}");
        }

        Positive(errors, "DefaultTimeout", options.DefaultTimeout, TaskRules.MaxTimeout);
        Positive(errors, "RetryBaseDelay", options.RetryBaseDelay, TimeSpan.FromDays(1));
        Positive(errors, "RetryMaxDelay", options.RetryMaxDelay, TimeSpan.FromDays(7));
        Positive(errors, "StopGracePeriod", options.StopGracePeriod, TimeSpan.FromHours(1));
        Positive(errors, "ShutdownTimeout", options.ShutdownTimeout, TimeSpan.FromHours(1));
        Positive(errors, "PollInterval", options.PollInterval, TimeSpan.FromHours(1));
        Positive(errors, "StopPollInterval", options.StopPollInterval, TimeSpan.FromHours(1));
        Positive(errors, "LeaseDuration", options.LeaseDuration, TimeSpan.FromDays(1));
        Positive(errors, "HeartbeatInterval", options.HeartbeatInterval, TimeSpan.FromDays(1));
        Positive(errors, "RescueInterval", options.RescueInterval, TimeSpan.FromDays(1));
        Positive(errors, "Retention", options.Retention, TimeSpan.FromDays(36_500));
        Positive(errors, "RetentionInterval", options.RetentionInterval, TimeSpan.FromDays(1));
        Positive(errors, "CountsRefreshInterval", options.CountsRefreshInterval, TimeSpan.FromHours(1));
        if (options.RetryMaxDelay < options.RetryBaseDelay)
        {
            errors.Add($"TaskSystem:RetryMaxDelay ({options.RetryMaxDelay}) must not be shorter than TaskSystem:RetryBaseDelay ({options.RetryBaseDelay}).");
        }

        if (options.HeartbeatInterval * 2 > options.LeaseDuration)
        {
            errors.Add($"TaskSystem:HeartbeatInterval ({options.HeartbeatInterval}) must be at most half of TaskSystem:LeaseDuration ({options.LeaseDuration}), so that one late heartbeat does not lose a lease.");
        }

        if (options.SelfFenceAfter is { } fenceAfter && (fenceAfter <= options.HeartbeatInterval || fenceAfter >= options.LeaseDuration))
        {
            errors.Add($"TaskSystem:SelfFenceAfter ({fenceAfter}) must be more than TaskSystem:HeartbeatInterval ({options.HeartbeatInterval}) and less than TaskSystem:LeaseDuration ({options.LeaseDuration}): a node must have a chance to renew before it fences, and must fence before its lease runs out.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Range(List<string> errors, string setting, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            errors.Add($"TaskSystem:{setting} must be between {min} and {max} (got {value}).");
        }
    }

    private static void Positive(List<string> errors, string setting, TimeSpan value, TimeSpan max)
    {
        if (value <= TimeSpan.Zero || value > max)
        {
            errors.Add($"TaskSystem:{setting} must be more than zero and at most {max} (got {value}).");
        }
    }
}
