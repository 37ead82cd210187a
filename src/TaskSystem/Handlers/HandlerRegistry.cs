using Microsoft.Extensions.DependencyInjection;

namespace TaskSystem.Handlers;

/// <summary>The task types this node can run. Handlers themselves are keyed services, resolved per attempt.</summary>
internal sealed class HandlerRegistry
{
    private readonly HashSet<string> _types;
    private readonly HashSet<string> _validated;

    public HandlerRegistry(IEnumerable<HandlerRegistration> registrations)
    {
        var list = registrations.ToList();
        _types = new HashSet<string>(list.Select(r => r.Type), StringComparer.Ordinal);
        _validated = new HashSet<string>(
            list.Where(r => r.HandlerType is not null && typeof(ITaskPayloadValidator).IsAssignableFrom(r.HandlerType)).Select(r => r.Type),
            StringComparer.Ordinal);
        Types = [.. _types.Order(StringComparer.Ordinal)];
    }

    /// <summary>The registered types, sorted.</summary>
    public IReadOnlyList<string> Types { get; }

    public bool Contains(string type) => _types.Contains(type);

    /// <summary>True when the type's handler checks payloads at enqueue (<see cref="ITaskPayloadValidator"/>).</summary>
    public bool HasValidator(string type) => _validated.Contains(type);

    public static ITaskHandler Resolve(IServiceProvider scope, string type) =>
        scope.GetRequiredKeyedService<ITaskHandler>(type);
}

/// <summary>One registered handler type; collected from DI to build the <see cref="HandlerRegistry"/>.</summary>
/// <param name="Type">The task type.</param>
/// <param name="HandlerType">The handler's class, or null for a delegate.</param>
internal sealed record HandlerRegistration(string Type, Type? HandlerType);
