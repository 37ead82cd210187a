using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TaskSystem.Configuration;
using TaskSystem.Handlers;

namespace TaskSystem;

/// <summary>Registers handlers and stores: one line per handler.</summary>
public sealed class TaskSystemBuilder
{
    private readonly HashSet<string> _types = new(StringComparer.Ordinal);

    internal TaskSystemBuilder(IServiceCollection services) => Services = services;

    /// <summary>The service collection TaskSystem was added to.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Runs tasks of <paramref name="type"/> with <typeparamref name="THandler"/>, resolved in a new scope per attempt.</summary>
    public TaskSystemBuilder AddHandler<THandler>(string type)
        where THandler : class, ITaskHandler
    {
        Register(type, typeof(THandler));
        Services.AddKeyedScoped<ITaskHandler, THandler>(type);
        return this;
    }

    /// <summary>Runs tasks of <paramref name="type"/> with a function that returns no result.</summary>
    public TaskSystemBuilder AddHandler(string type, Func<TaskContext, CancellationToken, Task> handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return AddDelegate(type, async (context, token) =>
        {
            await handle(context, token).ConfigureAwait(false);
            return null;
        });
    }

    /// <summary>Runs tasks of <paramref name="type"/> with a function that returns a JSON result (or null).</summary>
    public TaskSystemBuilder AddHandler(string type, Func<TaskContext, CancellationToken, ValueTask<JsonElement?>> handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return AddDelegate(type, handle);
    }

    /// <summary>Makes a store available under <c>TaskSystem:Provider</c> = <see cref="StoreProvider.Name"/>.</summary>
    public TaskSystemBuilder AddStoreProvider(StoreProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        Services.AddSingleton(provider);
        return this;
    }

    private TaskSystemBuilder AddDelegate(string type, Func<TaskContext, CancellationToken, ValueTask<JsonElement?>> handle)
    {
        Register(type, handlerType: null);
        Services.AddKeyedSingleton<ITaskHandler>(type, new DelegateTaskHandler(handle));
        return this;
    }

    private void Register(string type, Type? handlerType)
    {
        if (TaskRules.CheckName("a task type", type) is { } error)
        {
            throw new ArgumentException(error, nameof(type));
        }

        if (!_types.Add(type))
        {
            throw new InvalidOperationException($"A handler for task type '{type}' is already registered.");
        }

        Services.AddSingleton(new HandlerRegistration(type, handlerType));
    }
}
