using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TaskSystem.Cluster.Tests.Support;
using TaskSystem.TestSupport;
using static TaskSystem.Cluster.Tests.Support.TaskApi;

namespace TaskSystem.Cluster.Tests;

/// <summary>
/// Queue controls across three server processes on one PostgreSQL database: a pause sent to one node holds on all,
/// a resume sent to another starts the tasks at once; a queue left to one node runs there, never more at once than
/// that node's limit.
/// </summary>
public sealed class QueueClusterTests(QueueClusterTests.Nodes cluster) : IClassFixture<QueueClusterTests.Nodes>
{
    private static readonly string[] Others = ["--TaskSystem:Concurrency", "4", "--TaskSystem:Queues:emails:Serve", "false", "--TaskSystem:PollInterval", "00:01:00"];
    private static readonly string[] Mailer = ["--TaskSystem:Concurrency", "4", "--TaskSystem:Queues:emails:Concurrency", "1", "--TaskSystem:Queues:*:Serve", "true", "--TaskSystem:PollInterval", "00:01:00"];

    private readonly IReadOnlyList<ServerProcess> _nodes = cluster.Nodes;

    /// <summary>Two nodes that leave the emails queue alone and one that serves it; the tests use queues of their own.</summary>
    public sealed class Nodes() : ClusterNodes(("node1", Others), ("node2", Others), ("node3", Mailer));

    private static async Task<long> EnqueueAsync(HttpClient http, string queue, int durationMs)
    {
        using var response = await http.PostAsJsonAsync("/tasks", new { type = "demo", queue, payload = new { durationMs } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
    }

    [Fact]
    public async Task PauseSentToOneNode_HoldsOnEveryNode_AndResumeSentToAnotherStartsTheTasksAtOnce()
    {
        using (var paused = await _nodes[0].Http.PostAsync("/queues/held/pause", null))
        {
            Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        }

        var held = new List<long>();
        var free = new List<long>();
        for (var i = 0; i < 6; i++)
        {
            held.Add(await EnqueueAsync(_nodes[i % 3].Http, "held", durationMs: 50));
            free.Add(await EnqueueAsync(_nodes[i % 3].Http, "free", durationMs: 50));
        }

        // Every node has claimed since the held tasks were enqueued (the later free ones ran): none took a held one.
        await EventuallyAsync(() => ListAsync(_nodes[0].Http), all => free.All(id => all.Single(t => t.Id == id).State == "succeeded"),
            TimeSpan.FromSeconds(30), "the free queue's tasks ran");
        var queues = await _nodes[1].Http.GetFromJsonAsync<JsonElement>("/queues");
        var listed = queues.GetProperty("queues").EnumerateArray().Single(q => q.GetProperty("name").GetString() == "held");
        Assert.Equal((true, 6L), (listed.GetProperty("paused").GetBoolean(), listed.GetProperty("counts").GetProperty("queued").GetInt64()));

        // The poll is a minute away: only the resume's signal can start them within seconds.
        using (var resumed = await _nodes[2].Http.PostAsync("/queues/held/resume", null))
        {
            Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        }

        var done = await EventuallyAsync(() => ListAsync(_nodes[0].Http), all => held.All(id => all.Single(t => t.Id == id).State == "succeeded"),
            TimeSpan.FromSeconds(10), "the held tasks ran once resumed");
        Assert.True(done.Where(t => held.Contains(t.Id)).Select(t => t.Node).Distinct().Count() > 1, "the resumed tasks spread over the nodes");
    }

    [Fact]
    public async Task AQueueLeftToOneNode_RunsOnlyThere_NeverMoreAtOnceThanItsLimit()
    {
        var ids = new List<long>();
        for (var i = 0; i < 8; i++)
        {
            ids.Add(await EnqueueAsync(_nodes[i % 3].Http, "emails", durationMs: 100));
        }

        await EventuallyAsync(() => ListAsync(_nodes[0].Http), all => ids.All(id => all.Single(t => t.Id == id).State == "succeeded"),
            TimeSpan.FromSeconds(60), "every email task ran");

        var runs = new List<(DateTimeOffset Started, DateTimeOffset Finished, string Node)>();
        foreach (var id in ids)
        {
            var task = await _nodes[0].Http.GetFromJsonAsync<JsonElement>($"/tasks/{id}");
            runs.Add((task.GetProperty("startedAt").GetDateTimeOffset(), task.GetProperty("finishedAt").GetDateTimeOffset(), task.GetProperty("node").GetString()!));
        }

        Assert.All(runs, r => Assert.Equal("node3", r.Node));
        var ordered = runs.OrderBy(r => r.Started).ToList();
        for (var i = 1; i < ordered.Count; i++)
        {
            Assert.True(ordered[i].Started >= ordered[i - 1].Finished,
                $"two emails tasks overlapped on node3: one ran {ordered[i - 1].Started:O} to {ordered[i - 1].Finished:O}, the next started {ordered[i].Started:O}");
        }
    }
}
