using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using TaskSystem.TestSupport;

namespace TaskSystem.Server.Tests.Embedding;

/// <summary>
/// <c>AddHealthChecks().AddTaskSystem(tags)</c> in an app of one's own: the store check fails when the store does not
/// answer, the workers check while the workers do not run, and a producer-only app has no workers to wait for.
/// </summary>
public sealed class EmbeddedHealthChecksTests
{
    [Fact]
    public async Task WorkersCheck_FailsUntilTheEngineRuns_ThenBothPass_WithTheAppsTags()
    {
        using var directory = new TempDirectory();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddTaskSystem(o => o.ConnectionString = directory.SqliteConnectionString).AddHandler("echo", (_, _) => Task.CompletedTask);
        builder.Services.AddHealthChecks().AddTaskSystem("ready");
        using var host = builder.Build();
        var health = host.Services.GetRequiredService<HealthCheckService>();

        var beforeStart = await health.CheckHealthAsync();
        await host.StartAsync();
        var started = await health.CheckHealthAsync(check => check.Tags.Contains("ready"));
        await host.StopAsync();

        Assert.Equal(HealthStatus.Unhealthy, beforeStart.Entries["tasksystem-workers"].Status);
        Assert.Equal(HealthStatus.Healthy, started.Status);
        Assert.Equal(["tasksystem-store", "tasksystem-workers"], started.Entries.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ProducerOnlyApp_HasNoWorkersToWaitFor_AndItsStoreCheckFailsWhenTheDatabaseDoesNotAnswer()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        // Nothing listens on this port: the database is down.
        builder.Services.AddTaskSystemClient(o => o.ConnectionString = $"Host=127.0.0.1;Port={LoopbackPort.Free()};Username=app;Timeout=5")
            .UsePostgreSql()
            .AddTaskType("send-email");
        builder.Services.AddHealthChecks().AddTaskSystem();
        using var host = builder.Build();

        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        Assert.Equal(HealthStatus.Healthy, report.Entries["tasksystem-workers"].Status);
        Assert.Equal(HealthStatus.Unhealthy, report.Entries["tasksystem-store"].Status);
        Assert.Equal("The store does not answer.", report.Entries["tasksystem-store"].Description);
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
    }
}
