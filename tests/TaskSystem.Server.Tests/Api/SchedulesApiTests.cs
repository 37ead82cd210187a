using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TaskSystem.Server.Tests.Support;

namespace TaskSystem.Server.Tests.Api;

/// <summary>The schedules API through the real server pipeline, and a schedule declared in configuration.</summary>
public sealed class SchedulesApiTests : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client;

    public SchedulesApiTests(ApiFactory factory)
    {
        factory.Settings["TaskSystem:Schedules:from-config:Cron"] = "0 3 * * *";
        factory.Settings["TaskSystem:Schedules:from-config:TimeZone"] = "Europe/Paris";
        factory.Settings["TaskSystem:Schedules:from-config:Type"] = "demo";
        factory.Settings["TaskSystem:Schedules:from-config:Payload"] = """{"durationMs": 0}""";
        factory.Settings["TaskSystem:Schedules:from-config:Overlap"] = "Skip";
        _client = factory.CreateClient();
    }

    private async Task<HttpResponseMessage> PutAsync(string name, string body) =>
        await _client.PutAsync(new Uri($"/schedules/{name}", UriKind.Relative), new StringContent(body));

    private static string Unique() => "s" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task Put_Get_List_Delete_ASchedule()
    {
        var name = Unique();

        using var put = await PutAsync(name, """{"cron": "0 3 * * *", "timeZone": "America/New_York", "type": "demo", "payload": {"n": 1}, "queue": "reports", "misfire": "runOnce"}""");
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var schedule = await put.ReadJsonAsync();
        Assert.Equal(("0 3 * * *", "America/New_York", "demo", "reports", "runOnce", "allow", false),
            (schedule.GetProperty("cron").GetString(), schedule.GetProperty("timeZone").GetString(), schedule.GetProperty("type").GetString(),
             schedule.GetProperty("queue").GetString(), schedule.GetProperty("misfire").GetString(), schedule.GetProperty("overlap").GetString(),
             schedule.GetProperty("paused").GetBoolean()));
        var next = schedule.GetProperty("nextRunAt").GetDateTimeOffset();
        Assert.Equal(TimeSpan.Zero, next.Offset);
        Assert.Equal(3, TimeZoneInfo.ConvertTime(next, TimeZoneInfo.FindSystemTimeZoneById("America/New_York")).Hour);

        var read = await _client.GetFromJsonAsync<JsonElement>(new Uri($"/schedules/{name}", UriKind.Relative));
        Assert.Equal(1, read.GetProperty("payload").GetProperty("n").GetInt32());
        var list = await _client.GetFromJsonAsync<JsonElement>(new Uri("/schedules", UriKind.Relative));
        Assert.Contains(list.GetProperty("schedules").EnumerateArray(), s => s.GetProperty("name").GetString() == name);

        using var deleted = await _client.DeleteAsync(new Uri($"/schedules/{name}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var gone = await _client.GetAsync(new Uri($"/schedules/{name}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Theory]
    [InlineData("""{"cron": "61 * * * *", "type": "demo"}""", "cron", "Invalid cron expression")]
    [InlineData("""{"cron": "0 3 * * *", "timeZone": "Mars/Olympus", "type": "demo"}""", "timeZone", "Unknown time zone")]
    [InlineData("""{"every": "00:00:00.5", "type": "demo"}""", "every", "between 1 second")]
    [InlineData("""{"every": "soon", "type": "demo"}""", "every", "every must be an interval")]
    [InlineData("""{"cron": "0 3 * * *", "type": "nope"}""", "type", "unknown task type 'nope'")]
    [InlineData("""{"cron": "0 3 * * *"}""", "type", "type is required")]
    [InlineData("""{"type": "demo"}""", "cron", "Set either cron")]
    [InlineData("""{"cron": "0 3 * * *", "type": "demo", "priority": 5000}""", "priority", "priority must be between")]
    [InlineData("""{"cron": "0 3 * * *", "type": "demo", "overlap": "never"}""", "overlap", "overlap must be")]
    [InlineData("""{"cron": "0 3 * * *", "type": "demo", "when": 1}""", "when", "Unknown field 'when'")]
    public async Task Put_BadDefinition_IsA400NamingTheField(string body, string field, string message)
    {
        using var response = await PutAsync(Unique(), body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.ReadJsonAsync();
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.Contains(message, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Put_BadName_IsA400()
    {
        using var response = await PutAsync("bad%20name", """{"cron": "0 3 * * *", "type": "demo"}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("name", (await response.ReadJsonAsync()).GetProperty("field").GetString());
    }

    [Fact]
    public async Task Pause_Resume_Trigger_AndUnknownNamesAre404()
    {
        var name = Unique();
        using (await PutAsync(name, """{"cron": "0 3 1 1 *", "type": "demo", "payload": {"durationMs": 0}}"""))
        {
        }

        using var paused = await _client.PostAsync(new Uri($"/schedules/{name}/pause", UriKind.Relative), null);
        Assert.True((await paused.ReadJsonAsync()).GetProperty("paused").GetBoolean());
        using var resumed = await _client.PostAsync(new Uri($"/schedules/{name}/resume", UriKind.Relative), null);
        Assert.False((await resumed.ReadJsonAsync()).GetProperty("paused").GetBoolean());

        using var triggered = await _client.PostAsync(new Uri($"/schedules/{name}/trigger", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Created, triggered.StatusCode);
        var task = await triggered.ReadJsonAsync();
        Assert.Equal($"/tasks/{task.Id()}", triggered.Headers.Location!.OriginalString);
        var stored = await _client.WaitForStateAsync(task.Id(), "succeeded");
        Assert.Equal(name, stored.GetProperty("schedule").GetString());
        Assert.True(stored.TryGetProperty("scheduledFor", out var tick) && tick.ValueKind == JsonValueKind.String);

        foreach (var action in new[] { "pause", "resume", "trigger" })
        {
            using var missing = await _client.PostAsync(new Uri($"/schedules/nope-{name}/{action}", UriKind.Relative), null);
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }
    }

    [Fact]
    public async Task ScheduleDeclaredInConfiguration_IsInTheStoreAtStart()
    {
        var schedule = await _client.GetFromJsonAsync<JsonElement>(new Uri("/schedules/from-config", UriKind.Relative));

        Assert.Equal(("0 3 * * *", "Europe/Paris", "demo", "skip"),
            (schedule.GetProperty("cron").GetString(), schedule.GetProperty("timeZone").GetString(), schedule.GetProperty("type").GetString(),
             schedule.GetProperty("overlap").GetString()));
    }

    [Fact]
    public async Task IntervalSchedule_EnqueuesTasksOnItsTicks_WithTheScheduleOnEachTask()
    {
        var name = Unique();

        using (await PutAsync(name, """{"every": 1, "type": "demo", "payload": {"durationMs": 0}}"""))
        {
        }

        var tasks = await Eventually.Until(
            async () => (await _client.GetFromJsonAsync<JsonElement>(new Uri("/tasks?state=all&limit=1000", UriKind.Relative)))
                .GetProperty("tasks").EnumerateArray().Where(t => t.TryGetProperty("schedule", out var s) && s.GetString() == name).ToList(),
            found => found.Count >= 2,
            because: "two ticks of a one-second schedule");
        var ticks = tasks.Select(t => t.GetProperty("scheduledFor").GetDateTimeOffset()).Order().ToList();
        Assert.Equal(ticks.Count, ticks.Distinct().Count());
        Assert.All(ticks, t => Assert.Equal(0, t.Millisecond));
        using (await _client.DeleteAsync(new Uri($"/schedules/{name}", UriKind.Relative)))
        {
        }
    }
}
