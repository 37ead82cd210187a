using Microsoft.Extensions.Options;
using TaskSystem.Configuration;
using TaskSystem.Handlers;

namespace TaskSystem.ExternalWorkers;

/// <summary>
/// The task types external workers run on this node (<see cref="TaskSystemOptions.ExternalTypes"/>): accepted at
/// enqueue although no handler here runs them, and claimable only by external workers. A type with a handler on this
/// node is never external, so the node's dispatcher and external workers never compete for one type.
/// </summary>
internal sealed class ExternalTypes
{
    /// <summary>The declaration that accepts every type no handler runs.</summary>
    public const string Any = "*";

    private readonly HandlerRegistry _handlers;
    private readonly HashSet<string> _named;

    public ExternalTypes(IOptions<TaskSystemOptions> options, HandlerRegistry handlers)
    {
        _handlers = handlers;
        var declared = options.Value.ExternalTypes ?? [];
        AnyType = declared.Contains(Any, StringComparer.Ordinal);
        _named = new HashSet<string>(declared.Where(type => type != Any), StringComparer.Ordinal);
        Declared = [.. declared.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }

    /// <summary>The declaration as configured, sorted (<c>*</c> included when declared).</summary>
    public IReadOnlyList<string> Declared { get; }

    /// <summary>True when <c>*</c> is declared.</summary>
    public bool AnyType { get; }

    /// <summary>True when external workers run <paramref name="type"/> here: declared (by name or by <c>*</c>, then a valid name), and no handler runs it.</summary>
    public bool Accepts(string type) =>
        !_handlers.Contains(type) && (_named.Contains(type) || (AnyType && TaskRules.CheckName("a task type", type) is null));

    /// <summary>What an enqueue refused for its type should add about external workers ("" when none are declared).</summary>
    public string DescribeFor(string type)
    {
        if (Declared.Count == 0)
        {
            return "";
        }

        var declared = $"; types for external workers (TaskSystem:ExternalTypes): {string.Join(", ", Declared)}";
        return AnyType && TaskRules.CheckName("a task type", type) is { } invalid ? $"{declared} ({invalid})" : declared;
    }

    /// <summary>Why an external worker may not claim <paramref name="type"/> here, or null when it may.</summary>
    public string? RefusalFor(string type)
    {
        if (_handlers.Contains(type))
        {
            return $"type '{type}' is run by this node's own handlers; external workers claim only the types in TaskSystem:ExternalTypes that no handler runs.";
        }

        return Accepts(type)
            ? null
            : $"type '{type}' is not declared for external workers on this node; TaskSystem:ExternalTypes is {(Declared.Count == 0 ? "empty" : string.Join(", ", Declared))}.";
    }
}
