using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TaskSystem.Cluster.Tests.Support;
using TaskSystem.TestSupport;
using static TaskSystem.Cluster.Tests.Support.TaskApi;

namespace TaskSystem.Cluster.Tests;

/// <summary>
/// External workers on a cluster of real server processes over one PostgreSQL database: a worker may claim from any
/// node and heartbeat, complete or fail through any other; a long poll on one node wakes for a task enqueued on another;
/// a stop sent to one node reaches the heartbeat waiting on another.
/// </summary>
public sealed class ExternalWorkerClusterTests(ExternalWorkerClusterTests.Nodes cluster) : IClassFixture<ExternalWorkerClusterTests.Nodes>
{
    private static readonly string[] Settings =
    [
        "--TaskSystem:ExternalTypes:0", "convert",
        "--TaskSystem:PollInterval", "00:01:00",
        "--TaskSystem:RescueInterval", "00:00:00.500",
    ];

    private readonly IReadOnlyList<ServerProcess> _nodes = cluster.Nodes;

    /// <summary>Two nodes; each test ends the task it enqueued (done, cancelled), so none is left for another's claim.</summary>
    public sealed class Nodes() : ClusterNodes(("node1", Settings), ("node2", Settings));

    [Fact]
    public async Task ClaimOnOneNode_WakesForATaskEnqueuedOnAnother_AndTheWorkerReportsThroughEither()
    {
        var claim = PostAsync(_nodes[1].Http, "/workers/claim", """{"worker": "roamer", "types": ["convert"], "max": 2, "waitSeconds": 25, "leaseSeconds": 20}""");
        await Task.Delay(200);
        Assert.False(claim.IsCompleted);

        var clock = Stopwatch.StartNew();
        var id = await EnqueueAsync(_nodes[0].Http, "convert");
        var claimed = (await claim.WaitAsync(TimeSpan.FromSeconds(10))).GetProperty("tasks")[0];
        var woke = clock.Elapsed;
        var token = claimed.GetProperty("leaseToken").GetString()!;
        var beat = await PostAsync(_nodes[0].Http, $"/tasks/{id}/heartbeat", $$"""{"leaseToken": "{{token}}", "leaseSeconds": 20}""");
        var done = await PostAsync(_nodes[0].Http, $"/tasks/{id}/complete", $$$"""{"leaseToken": "{{{token}}}", "result": {"format": "webp"}}""");

        Assert.Equal(id, claimed.GetProperty("id").GetInt64());
        Assert.True(woke < TimeSpan.FromSeconds(5), $"the long poll on node2 answered {woke} after the enqueue on node1: the signal did not cross nodes, only the poll did");
        Assert.False(beat.GetProperty("stopRequested").GetBoolean());
        Assert.Equal("succeeded", done.GetProperty("state").GetString());
        var stored = await GetAsync(_nodes[1].Http, id);
        Assert.Equal(("succeeded", "worker:roamer"), (stored.State, stored.Node));
    }

    [Fact]
    public async Task StopSentToOneNode_ReachesTheHeartbeatWaitingOnAnother_AndTheWorkersFailEndsIt()
    {
        var id = await EnqueueAsync(_nodes[0].Http, "convert");
        var claimed = (await PostAsync(_nodes[0].Http, "/workers/claim", """{"worker": "stoppable", "types": ["convert"], "leaseSeconds": 30}""")).GetProperty("tasks")[0];
        var token = claimed.GetProperty("leaseToken").GetString()!;
        var heartbeat = PostAsync(_nodes[1].Http, $"/tasks/{id}/heartbeat", $$"""{"leaseToken": "{{token}}", "leaseSeconds": 30, "waitSeconds": 15}""");
        await Task.Delay(200);
        Assert.False(heartbeat.IsCompleted);

        var stop = _nodes[0].Http.DeleteAsync($"/tasks/{id}");
        var answer = await heartbeat.WaitAsync(TimeSpan.FromSeconds(5));
        var ack = await PostAsync(_nodes[1].Http, $"/tasks/{id}/fail", $$"""{"leaseToken": "{{token}}", "error": "stopped"}""");
        using var stopped = await stop.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(answer.GetProperty("stopRequested").GetBoolean());
        Assert.Equal("cancelled", ack.GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.NoContent, stopped.StatusCode);
    }

    [Fact]
    public async Task WorkerThatStopsHeartbeating_LosesTheTask_ToAWorkerOnAnotherNode_AndItsLateCompleteIsRefused()
    {
        var id = await EnqueueAsync(_nodes[0].Http, "convert");
        var lost = (await PostAsync(_nodes[0].Http, "/workers/claim", """{"worker": "frozen", "types": ["convert"], "leaseSeconds": 1}""")).GetProperty("tasks")[0];

        var again = (await PostAsync(_nodes[1].Http, "/workers/claim", """{"worker": "fresh", "types": ["convert"], "waitSeconds": 20}""")).GetProperty("tasks")[0];
        using var late = await _nodes[1].Http.PostAsync($"/tasks/{id}/complete",
            new StringContent($$"""{"leaseToken": "{{lost.GetProperty("leaseToken").GetString()}}"}"""));
        var done = await PostAsync(_nodes[0].Http, $"/tasks/{id}/complete", $$"""{"leaseToken": "{{again.GetProperty("leaseToken").GetString()}}"}""");

        Assert.Equal((id, 2), (again.GetProperty("id").GetInt64(), again.GetProperty("attempt").GetInt32()));
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Equal("leaseLost", (await late.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reason").GetString());
        Assert.Equal("succeeded", done.GetProperty("state").GetString());
        var stored = await GetAsync(_nodes[0].Http, id);
        Assert.Equal(("succeeded", "worker:fresh", 2), (stored.State, stored.Node, stored.Attempt));
    }

    private static async Task<long> EnqueueAsync(HttpClient http, string type)
    {
        using var response = await http.PostAsJsonAsync("/tasks", new { type });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
    }

    private static async Task<JsonElement> PostAsync(HttpClient http, string path, string body)
    {
        using var response = await http.PostAsync(path, new StringContent(body));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
