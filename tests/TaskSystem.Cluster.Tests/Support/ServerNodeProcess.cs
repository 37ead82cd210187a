namespace TaskSystem.Cluster.Tests.Support;

/// <summary>Starts the real server as one node of a PostgreSQL cluster: its name, the shared database, and logs at Information (the tests read them).</summary>
public static class ServerNodeProcess
{
    /// <summary>Starts a node and waits until it answers as ready.</summary>
    public static Task<ServerProcess> StartAsync(string name, string connectionString, params string[] settings) =>
        ServerProcess.StartReadyAsync(
        [
            "--TaskSystem:Provider", "postgres",
            "--TaskSystem:ConnectionString", connectionString,
            "--TaskSystem:NodeName", name,
            "--Logging:LogLevel:Default", "Information",
            "--Logging:LogLevel:Microsoft.AspNetCore", "Warning",
            "--Logging:Console:FormatterName", "simple",
            "--Logging:Console:FormatterOptions:SingleLine", "true",
            .. settings,
        ]);
}
