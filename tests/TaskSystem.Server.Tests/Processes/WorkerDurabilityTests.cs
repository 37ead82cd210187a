using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TaskSystem.Server.Tests.Support;
using TaskSystem.Tests.Support;

namespace TaskSystem.Server.Tests.Processes;

/// <summary>Every answer of the worker protocol that changes state is durable before it is sent: it survives kill -9.</summary>
public sealed class WorkerDurabilityTests
{
    [Fact]
    public async Task ClaimHeartbeatAndComplete_SurviveKillNine_RightAfterTheirAnswers()
    {
        using var directory = new TempDirectory();
        string[] settings = ["--TaskSystem:ConnectionString", directory.SqliteConnectionString, "--TaskSystem:NodeName", "durable-workers", "--TaskSystem:ExternalTypes:0", "*"];
        long id;
        string token;
        DateTimeOffset lease;
        await using (var server = await ServerProcess.StartAsync(settings))
        {
            id = (await server.Client.PostTaskAsync("""{"type": "transcode"}""")).Id();
            var claimed = (await PostAsync(server.Client, "/workers/claim", """{"worker": "w", "types": ["transcode"], "leaseSeconds": 600}""")).GetProperty("tasks")[0];
            token = claimed.GetProperty("leaseToken").GetString()!;
            await server.KillAsync();
        }

        await using (var server = await ServerProcess.StartAsync(settings))
        {
            var task = await server.Client.GetTaskAsync(id);
            Assert.Equal(("running", "worker:w"), (task.State(), task.GetProperty("node").GetString()));
            lease = (await PostAsync(server.Client, $"/tasks/{id}/heartbeat", $$"""{"leaseToken": "{{token}}", "leaseSeconds": 1200}""")).GetProperty("leaseExpiresAt").GetDateTimeOffset();
            await server.KillAsync();
        }

        await using (var server = await ServerProcess.StartAsync(settings))
        {
            // The restart's recovery leaves the worker's task alone: the worker lives on, and its lease still holds.
            Assert.Equal("running", (await server.Client.GetTaskAsync(id)).State());
            Assert.Equal(lease, (await PostAsync(server.Client, $"/tasks/{id}/heartbeat", $$"""{"leaseToken": "{{token}}", "leaseSeconds": 1200}""")).GetProperty("leaseExpiresAt").GetDateTimeOffset(), TimeSpan.FromSeconds(30));
            Assert.Equal("succeeded", (await PostAsync(server.Client, $"/tasks/{id}/complete", $$"""{"leaseToken": "{{token}}", "result": "done"}""")).State());
            await server.KillAsync();
        }

        await using var last = await ServerProcess.StartAsync(settings);
        var stored = await last.Client.GetTaskAsync(id);
        Assert.Equal(("succeeded", "done", 1), (stored.State(), stored.GetProperty("result").GetString(), stored.GetProperty("attempt").GetInt32()));
    }

    private static async Task<JsonElement> PostAsync(HttpClient client, string path, string body)
    {
        using var response = await client.PostAsync(new Uri(path, UriKind.Relative), new StringContent(body));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
