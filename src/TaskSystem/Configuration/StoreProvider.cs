using TaskSystem.Storage;

namespace TaskSystem.Configuration;

/// <summary>A store that <c>TaskSystem:Provider</c> can name, added by a store package (SQLite is built in).</summary>
/// <param name="Name">The provider's name in configuration.</param>
/// <param name="Create">Builds the store from the services and the options.</param>
public sealed record StoreProvider(string Name, Func<IServiceProvider, TaskSystemOptions, ITaskStore> Create);
