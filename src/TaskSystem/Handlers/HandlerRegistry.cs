using Microsoft.Extensions.DependencyInjection;

namespace TaskSystem.Handlers;

/// <summary>
/// The task types this node can run, and those it only accepts (declared without a handler: another process runs
/// them), each with its defaults. Handlers themselves are keyed services, resolved per attempt.
/// </summary>
internal sealed class HandlerRegistry
{
    private readonly HashSet<string> _types;
    private readonly HashSet<string> _validated;
    private readonly HashSet<string> _accepted;
    private readonly Dictionary<string, TaskTypeDefaults> _defaults;
    private readonly Dictionary<string, Type> _payloadTypes;

    public HandlerRegistry(IEnumerable<HandlerRegistration> registrations, IEnumerable<TaskTypeDeclaration> declarations)
    {
        var list = registrations.ToList();
        var declared = declarations.ToList();
        _types = new HashSet<string>(list.Select(r => r.Type), StringComparer.Ordinal);
        _validated = new HashSet<string>(
            list.Where(r => r.HandlerType is not null && typeof(ITaskPayloadValidator).IsAssignableFrom(r.HandlerType)).Select(r => r.Type),
            StringComparer.Ordinal);
        _accepted = new HashSet<string>(_types.Concat(declared.Select(d => d.Type)), StringComparer.Ordinal);
        _defaults = list.Where(r => r.Defaults is not null).Select(r => (r.Type, Defaults: r.Defaults!))
            .Concat(declared.Where(d => d.Defaults is not null).Select(d => (d.Type, Defaults: d.Defaults!)))
            .ToDictionary(d => d.Type, d => d.Defaults, StringComparer.Ordinal);
        _payloadTypes = list.Where(r => r.PayloadType is not null).ToDictionary(r => r.Type, r => r.PayloadType!, StringComparer.Ordinal);
        Types = [.. _types.Order(StringComparer.Ordinal)];
        AcceptedTypes = [.. _accepted.Order(StringComparer.Ordinal)];
    }

    /// <summary>The types with a handler here, sorted: the only ones this node claims.</summary>
    public IReadOnlyList<string> Types { get; }

    /// <summary>Every type this process accepts at enqueue, sorted: those with a handler and those declared.</summary>
    public IReadOnlyList<string> AcceptedTypes { get; }

    public bool Contains(string type) => _types.Contains(type);

    /// <summary>True when tasks of the type may be enqueued here (it has a handler here, or was declared).</summary>
    public bool Accepts(string type) => _accepted.Contains(type);

    /// <summary>True when the type's handler checks payloads at enqueue (<see cref="ITaskPayloadValidator"/>).</summary>
    public bool HasValidator(string type) => _validated.Contains(type);

    /// <summary>The type's registered defaults, or null.</summary>
    public TaskTypeDefaults? DefaultsOf(string type) => _defaults.GetValueOrDefault(type);

    /// <summary>The payload type of the type's typed handler (<see cref="ITaskHandler{TPayload}"/>), or null.</summary>
    public Type? PayloadTypeOf(string type) => _payloadTypes.GetValueOrDefault(type);

    public static ITaskHandler Resolve(IServiceProvider scope, string type) =>
        scope.GetRequiredKeyedService<ITaskHandler>(type);
}

/// <summary>One registered handler type; collected from DI to build the <see cref="HandlerRegistry"/>.</summary>
/// <param name="Type">The task type.</param>
/// <param name="HandlerType">The handler's class, or null for a delegate.</param>
/// <param name="Defaults">The type's defaults, when any were set.</param>
/// <param name="PayloadType">The payload type of a typed handler, checked at enqueue.</param>
internal sealed record HandlerRegistration(string Type, Type? HandlerType, TaskTypeDefaults? Defaults = null, Type? PayloadType = null);

/// <summary>A type accepted at enqueue without a handler in this process (a producer-only app; another process runs it).</summary>
internal sealed record TaskTypeDeclaration(string Type, TaskTypeDefaults? Defaults);
