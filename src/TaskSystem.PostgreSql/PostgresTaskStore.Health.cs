using TaskSystem.Storage;

namespace TaskSystem.PostgreSql;

/// <summary>What the store tells about its writes.</summary>
internal sealed partial class PostgresTaskStore
{
    /// <summary>
    /// Told of each write that could not reach the database (refused for lack of space, or of a connection; one
    /// request's bad input is not such a failure). The host shares its own (readiness reads it); a store opened alone
    /// has its own.
    /// </summary>
    internal WriteHealth WriteHealth
    {
        get => _database.WriteHealth;
        init => _database.WriteHealth = value;
    }
}
