using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace TaskSystem.Cluster.Tests.Support;

/// <summary>The few HTTP calls the cluster tests make, and the fields of a task they read.</summary>
public static class TaskApi
{
    public sealed record TaskView(long Id, string State, int Attempt, string? Node, string? Error);

    private sealed record TaskList(List<TaskView> Tasks, string? NextCursor);

    public static async Task<long> EnqueueDemoAsync(HttpClient http, int durationMs)
    {
        using var response = await http.PostAsJsonAsync("/tasks", new { type = "demo", payload = new { durationMs } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<TaskView>(JsonSerializerOptions.Web))!.Id;
    }

    public static async Task<TaskView> GetAsync(HttpClient http, long id) =>
        (await http.GetFromJsonAsync<TaskView>($"/tasks/{id}", JsonSerializerOptions.Web))!;

    /// <summary>Every task in the given states, paging through the list.</summary>
    public static async Task<List<TaskView>> ListAsync(HttpClient http, string states = "all")
    {
        var all = new List<TaskView>();
        string? cursor = null;
        do
        {
            var page = (await http.GetFromJsonAsync<TaskList>($"/tasks?state={states}&limit=1000" + (cursor is null ? "" : $"&cursor={cursor}"), JsonSerializerOptions.Web))!;
            all.AddRange(page.Tasks);
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        return all;
    }

    /// <summary>Waits on a condition with a deadline, polling an HTTP API at a gentler pace than in-process probes.</summary>
    public static Task<T> EventuallyAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string because) =>
        Eventually.Until(probe, done, timeout, because, interval: TimeSpan.FromMilliseconds(50));
}
