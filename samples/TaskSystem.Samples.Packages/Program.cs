using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using TaskSystem;
using TaskSystem.Testing;

// Reflection-based JSON is off (the project says so): everything below must go through the source-generated context.
if (JsonSerializer.IsReflectionEnabledByDefault)
{
    throw new InvalidOperationException("This app must run with reflection-based serialization disabled.");
}

var database = args.SkipWhile(a => a != "--db").Skip(1).FirstOrDefault() ?? Path.Combine(Path.GetTempPath(), $"tasksystem-{Guid.NewGuid():N}.db");
var builder = WebApplication.CreateSlimBuilder();
builder.WebHost.UseUrls("http://127.0.0.1:0");
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services
    .AddTaskSystem(options => options.ConnectionString = $"Data Source={database}")
    .AddJsonTypeInfoResolver(AppJson.Default)
    .AddHandler<GreetHandler>()
    .AddAspNetCore();
builder.Services.AddHealthChecks().AddTaskSystem();
builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.TypeInfoResolverChain.Add(AppJson.Default));

await using var app = builder.Build();
app.MapTaskSystemApi("/tasks");
app.MapTaskSystemDashboard("/jobs");
app.MapHealthChecks("/healthz");
await app.StartAsync();

var tasks = app.Services.GetRequiredService<ITaskManager>();
var typed = await tasks.EnqueueAsync("greet", new Greeting("Jean"), AppJson.Default.Greeting);
var generic = await tasks.EnqueueAsync("greet", new Greeting("Ada"));
var done = await tasks.WaitAsync(typed.Id) ?? throw new InvalidOperationException("The task vanished.");
var other = await tasks.WaitAsync(generic.Id) ?? throw new InvalidOperationException("The task vanished.");
var greeting = done.Result!.Value.Deserialize(AppJson.Default.Greeted)!;
Console.WriteLine($"consumer: task {done.Id} {done.State}: {greeting.Message}; task {other.Id} {other.State}");

using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
var viaApi = await http.GetFromJsonAsync($"/tasks/{done.Id}", AppJson.Default.JsonElement);
var page = await http.GetStringAsync(new Uri("/jobs/", UriKind.Relative));
var health = await http.GetStringAsync(new Uri("/healthz", UriKind.Relative));
Console.WriteLine($"consumer: GET /tasks/{done.Id} says {viaApi.GetProperty("state").GetString()}; dashboard {page.Length} characters; health {health}");

var fake = new FakeTaskManager(AppJson.Default);
await fake.EnqueueAsync("greet", new Greeting("Grace"), AppJson.Default.Greeting);
Console.WriteLine($"consumer: the fake recorded {fake.PayloadsOf<Greeting>("greet")[0].Name}");

var ok = done.State == TaskState.Succeeded && other.State == TaskState.Succeeded && greeting.Message == "Hello, Jean!"
    && viaApi.GetProperty("state").GetString() == "succeeded" && page.Contains("<html", StringComparison.OrdinalIgnoreCase) && health == "Healthy";
await app.StopAsync();
Console.WriteLine(ok ? "consumer: ok" : "consumer: FAILED");
return ok ? 0 : 1;

/// <summary>A greet task's payload.</summary>
internal sealed record Greeting(string Name);

/// <summary>A greet task's result.</summary>
internal sealed record Greeted(string Message);

/// <summary>Runs "greet" tasks (the name by convention: GreetHandler without its suffix).</summary>
internal sealed class GreetHandler : ITaskHandler<Greeting, Greeted>
{
    public ValueTask<Greeted> HandleAsync(Greeting payload, TaskContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new Greeted($"Hello, {payload.Name}!"));
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(Greeting))]
[JsonSerializable(typeof(Greeted))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class AppJson : JsonSerializerContext;
