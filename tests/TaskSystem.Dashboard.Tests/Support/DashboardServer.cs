using System.Net.Http.Json;
using System.Text.Json;

namespace TaskSystem.Dashboard.Tests.Support;

/// <summary>The real server as a child process on a database of its own, shared by the tests of a collection.</summary>
public sealed class DashboardServer : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();

    public ServerProcess Process { get; private set; } = null!;

    public Uri Address => Process.Address;

    public HttpClient Client => Process.Client;

    public string[] Settings =>
    [
        "--TaskSystem:ConnectionString", _directory.SqliteConnectionString,
        "--TaskSystem:NodeName", "web-1",
        "--TaskSystem:Concurrency", "8",
        "--TaskSystem:RetryBaseDelay", "00:00:00.100",
        "--TaskSystem:RetryMaxDelay", "00:00:00.200",
        "--TaskSystem:StopGracePeriod", "00:00:02",
        "--TaskSystem:ExternalTypes:0", "resize",
        "--TaskSystem:ExternalTypes:1", "*",
    ];

    public async Task InitializeAsync() => Process = await ServerProcess.StartAsync(Settings);

    public async Task<long> EnqueueAsync(string body)
    {
        using var response = await Client.PostAsync(new Uri("/tasks", UriKind.Relative), new StringContent(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST /tasks answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetInt64();
    }

    public async Task<JsonElement> GetTaskAsync(long id) =>
        await Client.GetFromJsonAsync<JsonElement>(new Uri($"/tasks/{id}", UriKind.Relative));

    public Task<JsonElement> WaitForStateAsync(long id, string state) =>
        Eventually.Until(() => GetTaskAsync(id), t => t.GetProperty("state").GetString() == state, TimeSpan.FromSeconds(20), $"task {id} to be {state}");

    public async Task DisposeAsync()
    {
        if (Process is not null)
        {
            await Process.DisposeAsync();
        }

        _directory.Dispose();
    }
}
