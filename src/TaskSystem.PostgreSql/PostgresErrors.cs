using System.Net.Sockets;
using Npgsql;
using TaskSystem.Storage;

namespace TaskSystem.PostgreSql;

/// <summary>
/// Tells "the database is out of reach right now" (the caller may try again: HTTP 503) from a bug or a bad
/// statement (HTTP 500). A restart, a dropped connection, a full pool or a server that refuses connections
/// are the former.
/// </summary>
internal static class PostgresErrors
{
    public static bool IsUnavailable(Exception exception) => exception switch
    {
        PostgresException postgres => postgres.IsTransient
            || postgres.SqlState.StartsWith("08", StringComparison.Ordinal)
            || postgres.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow,
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is IOException or SocketException or TimeoutException,
        IOException or SocketException or TimeoutException => true,
        _ => false,
    };

    public static TaskStoreUnavailableException Unavailable(Exception exception) =>
        new($"PostgreSQL cannot be reached right now: {exception.Message}", exception);
}
