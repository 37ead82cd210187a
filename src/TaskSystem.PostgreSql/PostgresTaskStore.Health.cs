using TaskSystem.Storage;

namespace TaskSystem.PostgreSql;

/// <summary>What the store tells about its writes.</summary>
internal sealed partial class PostgresTaskStore
{
    /// <summary>
    /// Told whether each write reached the database (a write PostgreSQL refused for lack of space or of a connection is
    /// a failure; one request's bad input is not). The host shares its own (readiness reads it); a store opened alone
    /// has its own.
    /// </summary>
    internal WriteHealth WriteHealth
    {
        get => _database.WriteHealth;
        init => _database.WriteHealth = value;
    }
}
