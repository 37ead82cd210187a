namespace TaskSystem.Server.Configuration;

/// <summary>
/// <c>ConnectionStrings:tasksystem</c>, what .NET Aspire's <c>WithReference(database)</c> injects
/// (<c>ConnectionStrings__tasksystem</c>): when set, the server stores tasks in that PostgreSQL database. It takes the
/// place of appsettings.json's SQLite defaults, but <c>TaskSystem:Provider</c> and <c>TaskSystem:ConnectionString</c>
/// given in the environment or on the command line still win.
/// </summary>
internal static class AspireConnectionString
{
    public const string Name = "tasksystem";

    public static void Apply(ConfigurationManager configuration)
    {
        if (configuration.GetConnectionString(Name) is not { Length: > 0 } connectionString)
        {
            return;
        }

        // Right after the JSON files (appsettings*.json), before the environment and the command line.
        var sources = (IList<IConfigurationSource>)configuration.Sources;
        var afterFiles = 0;
        for (var i = 0; i < sources.Count; i++)
        {
            if (sources[i] is Microsoft.Extensions.Configuration.Json.JsonConfigurationSource)
            {
                afterFiles = i + 1;
            }
        }

        sources.Insert(afterFiles, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                [$"{TaskSystemOptions.SectionName}:Provider"] = "postgres",
                [$"{TaskSystemOptions.SectionName}:ConnectionString"] = connectionString,
            },
        });
    }
}
