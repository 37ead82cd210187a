using System.Net.Http.Json;
using System.Text.Json;

namespace TaskSystem.Server.Tests.Support;

/// <summary>Reads tasks and problems off HTTP responses.</summary>
public static class TaskJson
{
    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<JsonElement>();

    public static async Task<JsonElement> PostTaskAsync(this HttpClient client, string body)
    {
        using var response = await client.PostAsync(new Uri("/tasks", UriKind.Relative), new StringContent(body));
        if (response.StatusCode != System.Net.HttpStatusCode.Created)
        {
            Assert.Fail($"POST /tasks answered {(int)response.StatusCode}, not 201: {await response.Content.ReadAsStringAsync()}");
        }

        return await response.ReadJsonAsync();
    }

    public static async Task<JsonElement> GetTaskAsync(this HttpClient client, long id) =>
        await client.GetFromJsonAsync<JsonElement>(new Uri($"/tasks/{id}", UriKind.Relative));

    public static Task<JsonElement> WaitForStateAsync(this HttpClient client, long id, string state, TimeSpan? timeout = null) =>
        Eventually.Until(() => client.GetTaskAsync(id), t => t.GetProperty("state").GetString() == state, timeout, $"task {id} to be {state}");

    public static long Id(this JsonElement task) => task.GetProperty("id").GetInt64();

    public static string State(this JsonElement task) => task.GetProperty("state").GetString()!;
}
