using TaskSystem.Storage;

namespace TaskSystem.Configuration;

/// <summary>A store that <c>TaskSystem:Provider</c> can name, added by a store package (SQLite is built in).</summary>
/// <param name="Name">The provider's name in configuration.</param>
/// <param name="Create">Builds the store from the services and the options.</param>
/// <param name="SelectedByDefault">Used when <c>TaskSystem:Provider</c> is not set (the app asked for this store in code).</param>
internal sealed record StoreProvider(string Name, Func<IServiceProvider, TaskSystemOptions, ITaskStore> Create, bool SelectedByDefault = false)
{
    /// <summary>The built-in store's name.</summary>
    public const string Sqlite = "sqlite";

    /// <summary>The provider in force: the configured one, else the last one an app selected in code, else SQLite.</summary>
    public static string Effective(TaskSystemOptions options, IEnumerable<StoreProvider> providers) =>
        options.Provider is { Length: > 0 } configured
            ? configured
            : providers.LastOrDefault(p => p.SelectedByDefault)?.Name ?? Sqlite;
}
