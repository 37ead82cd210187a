using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.DependencyInjection;
using TaskSystem.Configuration;
using TaskSystem.Handlers;

namespace TaskSystem;

/// <summary>Registers handlers, task types and JSON contexts: one line each.</summary>
public sealed class TaskSystemBuilder
{
    private readonly HashSet<string> _types = new(StringComparer.Ordinal);

    internal TaskSystemBuilder(IServiceCollection services) => Services = services;

    /// <summary>The service collection TaskSystem was added to.</summary>
    public IServiceCollection Services { get; }

    /// <summary>
    /// Runs tasks with <typeparamref name="THandler"/>, resolved in a new scope per attempt: an <see cref="ITaskHandler"/>,
    /// or a typed <see cref="ITaskHandler{TPayload}"/> or <see cref="ITaskHandler{TPayload, TResult}"/>. The task type
    /// is the class's <see cref="TaskTypeAttribute"/>, else its name in kebab case without a <c>Handler</c> suffix.
    /// </summary>
    /// <param name="configure">The type's defaults: queue, priority, attempts, timeout, retry delays.</param>
    public TaskSystemBuilder AddHandler<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.Interfaces)] THandler>(Action<TaskTypeOptions>? configure = null)
        where THandler : class, ITaskHandler =>
        AddHandler<THandler>(TaskTypeAttribute.NameOf(typeof(THandler)), configure);

    /// <summary>Runs tasks of <paramref name="type"/> with <typeparamref name="THandler"/>, resolved in a new scope per attempt.</summary>
    /// <param name="type">The task type.</param>
    /// <param name="configure">The type's defaults: queue, priority, attempts, timeout, retry delays.</param>
    public TaskSystemBuilder AddHandler<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.Interfaces)] THandler>(string type, Action<TaskTypeOptions>? configure = null)
        where THandler : class, ITaskHandler
    {
        Register(new HandlerRegistration(type, typeof(THandler), Defaults(type, configure), PayloadTypeOf(typeof(THandler))));
        Services.AddKeyedScoped<ITaskHandler, THandler>(type);
        return this;
    }

    /// <summary>Runs tasks of <paramref name="type"/> with a function that returns no result.</summary>
    public TaskSystemBuilder AddHandler(string type, Func<TaskContext, CancellationToken, Task> handle, Action<TaskTypeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return AddDelegate(type, async (context, token) =>
        {
            await handle(context, token).ConfigureAwait(false);
            return null;
        }, configure);
    }

    /// <summary>Runs tasks of <paramref name="type"/> with a function that returns a JSON result (or null).</summary>
    public TaskSystemBuilder AddHandler(string type, Func<TaskContext, CancellationToken, ValueTask<JsonElement?>> handle, Action<TaskTypeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return AddDelegate(type, handle, configure);
    }

    /// <summary>
    /// Accepts tasks of <paramref name="type"/> without running them here: another process (a worker service with the
    /// handler) runs them. For producer-only apps (<c>AddTaskSystemClient</c>), and for apps whose handlers live
    /// elsewhere. The defaults set here apply to the tasks this app enqueues.
    /// </summary>
    public TaskSystemBuilder AddTaskType(string type, Action<TaskTypeOptions>? configure = null)
    {
        CheckNew(type);
        Services.AddSingleton(new TaskTypeDeclaration(type, Defaults(type, configure)));
        return this;
    }

    /// <summary>
    /// Reads and writes payloads and results with <paramref name="resolver"/> first, typically a source-generated
    /// <see cref="System.Text.Json.Serialization.JsonSerializerContext"/>: what a trimmed or native AOT app needs, as
    /// it has no reflection-based serialization. Contexts are tried in the order they are added, before reflection.
    /// </summary>
    public TaskSystemBuilder AddJsonTypeInfoResolver(IJsonTypeInfoResolver resolver)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        Services.AddSingleton(new PayloadJsonResolver(resolver));
        return this;
    }

    /// <summary>Makes a store available under <c>TaskSystem:Provider</c> = <see cref="StoreProvider.Name"/>.</summary>
    internal TaskSystemBuilder AddStoreProvider(StoreProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        Services.AddSingleton(provider);
        return this;
    }

    private TaskSystemBuilder AddDelegate(string type, Func<TaskContext, CancellationToken, ValueTask<JsonElement?>> handle, Action<TaskTypeOptions>? configure)
    {
        Register(new HandlerRegistration(type, HandlerType: null, Defaults(type, configure)));
        Services.AddKeyedSingleton<ITaskHandler>(type, new DelegateTaskHandler(handle));
        return this;
    }

    private void Register(HandlerRegistration registration)
    {
        CheckNew(registration.Type);
        Services.AddSingleton(registration);
    }

    private void CheckNew(string type)
    {
        if (TaskRules.CheckName("a task type", type) is { } error)
        {
            throw new ArgumentException(error, nameof(type));
        }

        if (!_types.Add(type))
        {
            throw new InvalidOperationException($"Task type '{type}' is already registered (a handler or AddTaskType).");
        }
    }

    private static TaskTypeDefaults? Defaults(string type, Action<TaskTypeOptions>? configure)
    {
        if (configure is null)
        {
            return null;
        }

        var options = new TaskTypeOptions();
        configure(options);
        return options.ToDefaults(type);
    }

    /// <summary>The payload type of a typed handler, so that enqueues can be checked against it.</summary>
    private static Type? PayloadTypeOf([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.Interfaces)] Type handlerType) =>
        handlerType.GetInterfaces()
            .FirstOrDefault(i => i.IsGenericType
                && (i.GetGenericTypeDefinition() == typeof(ITaskHandler<>) || i.GetGenericTypeDefinition() == typeof(ITaskHandler<,>)))
            ?.GetGenericArguments()[0];

    /// <summary>
    /// Declares a recurring schedule: at each tick of <paramref name="cron"/> (5 fields, or 6 with seconds first) in
    /// <paramref name="timeZone"/>, one task like <paramref name="template"/> is enqueued, once across all nodes. Written
    /// to the store at start (replacing a schedule of that name); see docs/schedules.md.
    /// </summary>
    public TaskSystemBuilder AddSchedule(string name, string cron, TimeZoneInfo timeZone, TaskRequest template) =>
        AddSchedule(name, cron, timeZone, template, ScheduleOverlap.Allow, ScheduleMisfire.Skip);

    /// <summary>Declares a recurring schedule (see <see cref="AddSchedule(string, string, TimeZoneInfo, TaskRequest)"/>) with its overlap and misfire policies.</summary>
    public TaskSystemBuilder AddSchedule(string name, string cron, TimeZoneInfo timeZone, TaskRequest template, ScheduleOverlap overlap, ScheduleMisfire misfire)
    {
        ArgumentNullException.ThrowIfNull(timeZone);
        ArgumentNullException.ThrowIfNull(template);
        Services.AddOptions<TaskSystemOptions>().Configure(options => options.Schedules[name] = new ScheduleOptions
        {
            Cron = cron,
            TimeZone = timeZone.Id,
            Type = template.Type,
            Payload = template.Payload?.GetRawText(),
            Queue = template.Queue,
            Priority = template.Priority,
            MaxAttempts = template.MaxAttempts,
            TimeoutSeconds = template.Timeout?.TotalSeconds,
            Overlap = overlap,
            Misfire = misfire,
        });
        return this;
    }
}
