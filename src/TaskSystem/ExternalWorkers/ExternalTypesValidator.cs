using Microsoft.Extensions.Options;
using TaskSystem.Configuration;
using TaskSystem.Handlers;
using TaskSystem.Storage;

namespace TaskSystem.ExternalWorkers;

/// <summary>
/// Checks <see cref="TaskSystemOptions.ExternalTypes"/> at start (names, and no type that a handler here runs), and
/// that no node takes a name external workers' tasks are recorded under.
/// </summary>
internal sealed class ExternalTypesValidator(IEnumerable<HandlerRegistration> handlers) : IValidateOptions<TaskSystemOptions>
{
    public ValidateOptionsResult Validate(string? name, TaskSystemOptions options)
    {
        var errors = new List<string>();
        var handled = handlers.Select(h => h.Type).ToHashSet(StringComparer.Ordinal);
        foreach (var type in options.ExternalTypes ?? [])
        {
            if (type == ExternalTypes.Any)
            {
                continue;
            }

            if (TaskRules.CheckName("a task type", type) is { } error)
            {
                errors.Add($"TaskSystem:ExternalTypes: {error} Use * to accept any type.");
            }
            else if (handled.Contains(type))
            {
                errors.Add($"TaskSystem:ExternalTypes names '{type}', which a handler on this node runs: a type is run either by handlers or by external workers, not both.");
            }
        }

        if (options.NodeName?.StartsWith(ExternalHolder.Prefix, StringComparison.Ordinal) == true)
        {
            errors.Add($"TaskSystem:NodeName must not start with '{ExternalHolder.Prefix}' (got '{options.NodeName}'): tasks held by external workers are recorded under that prefix.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
