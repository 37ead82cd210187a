using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TaskSystem;
using TaskSystem.Samples.Embedded;

// A worker app with its own handler: tasks live in data/tasks.db and survive restarts.
var builder = Host.CreateApplicationBuilder(args);
builder.Services
    .AddTaskSystem(options => options.Concurrency = 4)
    .AddHandler<SendWelcomeEmail>("send-welcome-email");

using var host = builder.Build();
await host.StartAsync();

var tasks = host.Services.GetRequiredService<TaskManager>();
var task = await tasks.EnqueueAsync("send-welcome-email", new WelcomeEmail("jean@example.com", "Jean"));
Console.WriteLine($"Enqueued task {task.Id}: {task.State}");

// A real app would carry on with its work; the sample waits for the result and exits.
while (task is { State: not (TaskState.Succeeded or TaskState.Failed or TaskState.Cancelled) })
{
    await Task.Delay(TimeSpan.FromMilliseconds(50));
    task = (await tasks.GetAsync(task.Id))!;
}

Console.WriteLine($"Task {task.Id} {task.State}: {task.Result}");
await host.StopAsync();
