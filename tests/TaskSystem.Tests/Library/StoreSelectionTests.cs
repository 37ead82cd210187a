using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TaskSystem.PostgreSql;
using TaskSystem.Storage;
using TaskSystem.Storage.Sqlite;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Library;

/// <summary>Which store an app gets, and where the SQLite file goes when the path is relative.</summary>
public sealed class StoreSelectionTests
{
    private const string Npgsql = "Host=127.0.0.1;Port=1;Username=app;Password=secret;Database=app";

    [Fact]
    public async Task UsePostgreSql_SelectsThePostgreSqlStore_WithoutAProviderSetting()
    {
        await using var services = new ServiceCollection().AddLogging()
            .AddTaskSystem(o => o.ConnectionString = Npgsql).UsePostgreSql().Services.BuildServiceProvider();

        Assert.IsType<PostgresTaskStore>(InstrumentedTaskStore.Unwrap(services.GetRequiredService<ITaskStore>()));
    }

    [Fact]
    public async Task UsePostgreSql_AProviderSettingStillWins()
    {
        using var directory = new TempDirectory();
        await using var services = new ServiceCollection().AddLogging()
            .AddTaskSystem(o =>
            {
                o.Provider = "sqlite";
                o.ConnectionString = directory.SqliteConnectionString;
            })
            .UsePostgreSql().Services.BuildServiceProvider();

        Assert.IsType<SqliteTaskStore>(InstrumentedTaskStore.Unwrap(services.GetRequiredService<ITaskStore>()));
    }

    [Fact]
    public async Task SqliteStore_GivenANpgsqlConnectionString_SaysToCallUsePostgreSql()
    {
        await using var services = new ServiceCollection().AddLogging()
            .AddTaskSystem(o => o.ConnectionString = Npgsql).Services.BuildServiceProvider();

        var error = Assert.Throws<InvalidOperationException>(() => services.GetRequiredService<ITaskStore>());

        Assert.Contains("UsePostgreSql()", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DefaultDatabase_IsUnderTheContentRoot_NotTheWorkingDirectory()
    {
        using var contentRoot = new TempDirectory();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = contentRoot.Path });
        builder.Services.AddTaskSystem(o => o.NodeName = "content-root");
        var host = builder.Build();
        await using ((IAsyncDisposable)host)
        {
            await host.StartAsync();
            await host.StopAsync();
        }

        Assert.True(File.Exists(Path.Combine(contentRoot.Path, "data", "tasks.db")));
        Assert.Equal(
            Path.Combine(contentRoot.Path, "db", "x.db"),
            new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(
                TaskSystemServiceCollectionExtensions.SqliteConnectionString("Data Source=db/x.db", contentRoot.Path)).DataSource);
    }
}
