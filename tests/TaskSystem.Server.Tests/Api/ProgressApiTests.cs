using System.Net.Http.Json;
using System.Text.Json;
using TaskSystem.Server.Tests.Support;
using TaskSystem.TestSupport;

namespace TaskSystem.Server.Tests.Api;

/// <summary>GET /tasks/{id} and the list show the progress a handler reports (the demo handler reports as it sleeps).</summary>
public sealed class ProgressApiTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Get_RunningDemoTask_ShowsItsProgressGrowing_AndTheLastReportOnceItSucceeded()
    {
        var task = await _client.PostTaskAsync("""{"type": "demo", "payload": {"durationMs": 6000}}""");

        var first = await Eventually.Until(() => _client.GetTaskAsync(task.Id()), t => t.TryGetProperty("progress", out var p) && p.ValueKind == JsonValueKind.Object,
            because: "the demo handler reports at once");
        var later = await Eventually.Until(() => _client.GetTaskAsync(task.Id()),
            t => t.GetProperty("progress").GetProperty("percent").GetDouble() > first.GetProperty("progress").GetProperty("percent").GetDouble(),
            because: "the demo handler reports as it sleeps");
        var listed = await _client.GetFromJsonAsync<JsonElement>(new Uri("/tasks?state=running&limit=200", UriKind.Relative));
        var done = await _client.WaitForStateAsync(task.Id(), "succeeded");

        Assert.Equal("running", later.State());
        Assert.StartsWith("slept ", later.GetProperty("progress").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains(listed.GetProperty("tasks").EnumerateArray(), t => t.Id() == task.Id() && t.GetProperty("progress").ValueKind == JsonValueKind.Object);
        var progress = done.GetProperty("progress");
        Assert.Equal((100d, "slept 6000 of 6000 ms", 1), (progress.GetProperty("percent").GetDouble(), progress.GetProperty("message").GetString(), progress.GetProperty("attempt").GetInt32()));
    }

    [Fact]
    public async Task Get_TaskThatNeverRan_HasNullProgress()
    {
        var task = await _client.PostTaskAsync("""{"type": "demo", "runAt": "2099-01-01T00:00:00Z"}""");

        Assert.Equal(JsonValueKind.Null, (await _client.GetTaskAsync(task.Id())).GetProperty("progress").ValueKind);
    }
}
