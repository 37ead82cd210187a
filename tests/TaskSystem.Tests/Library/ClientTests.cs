using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TaskSystem.Engine;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Library;

/// <summary>A producer-only app: TaskManager and ITaskManager without workers; its tasks wait for a node that runs them.</summary>
public sealed class ClientTests
{
    [Fact]
    public async Task Client_EnqueuesDeclaredTypes_RunsNothing_AndANodeLaterRunsThem()
    {
        using var directory = new TempDirectory();
        long id;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddTaskSystemClient(o => o.ConnectionString = directory.SqliteConnectionString).AddTaskType("send-email");
        var client = builder.Build();
        await using ((IAsyncDisposable)client)
        {
            await client.StartAsync();
            var tasks = client.Services.GetRequiredService<ITaskManager>();
            id = (await tasks.EnqueueAsync("send-email", new { to = "jean@example.com" })).Id;

            Assert.Null(client.Services.GetService<TaskEngine>());
            Assert.Same(client.Services.GetRequiredService<TaskManager>(), tasks);
            Assert.Equal(TaskState.Queued, (await tasks.GetAsync(id))!.State);
            await client.StopAsync();
        }

        await using var node = await EngineHost.StartAsync(b => b.AddHandler("send-email", (_, _) => Task.CompletedTask), directory: directory);
        await node.WaitForStateAsync(id, TaskState.Succeeded);
    }
}
