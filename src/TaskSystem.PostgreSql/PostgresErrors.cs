using System.Net.Sockets;
using Npgsql;
using TaskSystem.Storage;

namespace TaskSystem.PostgreSql;

/// <summary>
/// Tells "the database cannot do it right now" (the caller may try again: HTTP 503) from a bug or a bad statement
/// (HTTP 500). A restart, a dropped connection, a full pool or a server that refuses connections are the former; so
/// is a server short of a resource (a full disk, no memory, no connection slot), which refuses statements until the
/// resource returns and needs nothing from us to recover.
/// </summary>
internal static class PostgresErrors
{
    public static bool IsUnavailable(Exception exception) => exception switch
    {
        PostgresException postgres => IsShortOfResources(postgres)
            || postgres.IsTransient
            || postgres.SqlState.StartsWith("08", StringComparison.Ordinal)
            || postgres.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow,
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is IOException or SocketException or TimeoutException,
        IOException or SocketException or TimeoutException => true,
        _ => false,
    };

    /// <summary>
    /// The server refused the statement for want of a resource: SQLSTATE class 53 (<c>53100</c> disk_full, which is
    /// what "could not extend file: No space left on device" carries; <c>53200</c> out_of_memory; <c>53300</c>
    /// too_many_connections; …), or a system or I/O error it reported (<c>58000</c>, <c>58030</c>). The statement
    /// failed as a whole, so nothing was written, and the connection is sound: no need to treat the outcome as
    /// unknown or to drop the pool.
    /// </summary>
    public static bool IsShortOfResources(Exception exception) =>
        exception is PostgresException postgres
        && (postgres.SqlState.StartsWith("53", StringComparison.Ordinal) || postgres.SqlState is PostgresErrorCodes.IoError or PostgresErrorCodes.SystemError);

    /// <summary>True when the connection is no longer usable (a lost server, a broken stream): nothing to tidy on it.</summary>
    public static bool IsConnectionLost(NpgsqlConnection connection) => connection.FullState is System.Data.ConnectionState.Broken or System.Data.ConnectionState.Closed;

    public static TaskStoreUnavailableException Unavailable(Exception exception) =>
        IsShortOfResources(exception)
            ? new($"PostgreSQL refused the statement for want of a resource ({((PostgresException)exception).SqlState}): {exception.Message}", exception)
            : new($"PostgreSQL cannot be reached right now: {exception.Message}", exception);
}
