// Two TaskSystem nodes on one PostgreSQL database, as .NET Aspire runs them.
var builder = DistributedApplication.CreateBuilder(args);

// The nodes listen beyond localhost, so they want an API key: set it once with
// dotnet user-secrets set Parameters:api-key "$(openssl rand -base64 32)" --project samples/TaskSystem.Samples.Aspire
var apiKey = builder.AddParameter("api-key", secret: true);

var database = builder.AddPostgres("postgres").WithDataVolume().AddDatabase("tasksystem");

foreach (var node in new[] { "node-1", "node-2" })
{
    builder.AddProject<Projects.TaskSystem_Server>("tasksystem-" + node)
        .WithReference(database) // ConnectionStrings__tasksystem: the server stores tasks there
        .WaitFor(database)
        .WithEnvironment("TaskSystem__NodeName", node)
        .WithEnvironment("TaskSystem__ApiKeys__0", apiKey)
        .WithHttpEndpoint()
        .WithHttpHealthCheck("/health");
}

await builder.Build().RunAsync();
