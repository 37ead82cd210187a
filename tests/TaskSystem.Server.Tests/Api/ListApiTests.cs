using System.Net.Http.Json;
using System.Text.Json;
using TaskSystem.Server.Tests.Support;

namespace TaskSystem.Server.Tests.Api;

/// <summary>GET /tasks: the running tasks by default, filters, and cursor paging.</summary>
public sealed class ListApiTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<JsonElement> ListAsync(string query) =>
        await _client.GetFromJsonAsync<JsonElement>(new Uri("/tasks" + query, UriKind.Relative));

    [Fact]
    public async Task Get_WithNoFilter_ListsTheRunningTasks_AsTheSeedDoes()
    {
        var running = await _client.PostTaskAsync("""{"type": "demo", "payload": {"durationMs": 60000}}""");
        var scheduled = await _client.PostTaskAsync("""{"type": "demo", "runAt": "2099-01-01T00:00:00Z"}""");
        await _client.WaitForStateAsync(running.Id(), "running");

        var tasks = (await ListAsync("")).GetProperty("tasks").EnumerateArray().ToList();

        Assert.Contains(tasks, t => t.Id() == running.Id());
        Assert.All(tasks, t => Assert.Equal("running", t.State()));
        Assert.DoesNotContain(tasks, t => t.Id() == scheduled.Id());
        await _client.DeleteAsync(new Uri($"/tasks/{running.Id()}", UriKind.Relative));
    }

    [Fact]
    public async Task Get_WithStates_FiltersByThem()
    {
        var scheduled = await _client.PostTaskAsync("""{"type": "demo", "runAt": "2099-01-01T00:00:00Z", "queue": "list-filter"}""");
        var done = await _client.PostTaskAsync("""{"type": "demo", "payload": {"durationMs": 0}, "queue": "list-filter"}""");
        await _client.WaitForStateAsync(done.Id(), "succeeded");

        var both = (await ListAsync("?state=scheduled,succeeded&queue=list-filter")).GetProperty("tasks").EnumerateArray().Select(t => t.Id());
        var all = (await ListAsync("?state=all&queue=list-filter")).GetProperty("tasks").EnumerateArray().Select(t => t.Id());
        var one = (await ListAsync("?state=succeeded&queue=list-filter")).GetProperty("tasks").EnumerateArray().Select(t => t.Id());

        Assert.Equal([done.Id(), scheduled.Id()], both);
        Assert.Equal([done.Id(), scheduled.Id()], all);
        Assert.Equal([done.Id()], one);
    }

    [Fact]
    public async Task Get_WithLimitAndCursor_PagesThroughEveryTaskOnce()
    {
        var ids = new List<long>();
        for (var i = 0; i < 7; i++)
        {
            ids.Add((await _client.PostTaskAsync("""{"type": "demo", "runAt": "2099-01-01T00:00:00Z", "queue": "paging"}""")).Id());
        }

        var seen = new List<long>();
        var query = "?state=scheduled&queue=paging&limit=3";
        while (true)
        {
            var page = await ListAsync(query);
            seen.AddRange(page.GetProperty("tasks").EnumerateArray().Select(t => t.Id()));
            if (page.GetProperty("nextCursor").ValueKind == JsonValueKind.Null)
            {
                break;
            }

            query = $"?state=scheduled&queue=paging&limit=3&cursor={page.GetProperty("nextCursor").GetString()}";
        }

        Assert.Equal(ids.AsEnumerable().Reverse(), seen);
    }
}
