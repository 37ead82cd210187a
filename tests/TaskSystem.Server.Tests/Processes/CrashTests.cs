using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TaskSystem.Server.Tests.Support;

namespace TaskSystem.Server.Tests.Processes;

/// <summary>The durability promise, tested on the real process: a 201 survives kill -9, and every accepted task finishes.</summary>
public sealed class CrashTests
{
    [Fact]
    public async Task KillNine_WhileTasksRunAndClientsEnqueue_LosesNoAcceptedTask()
    {
        using var directory = new TempDirectory();
        string[] settings = ["--TaskSystem:ConnectionString", directory.SqliteConnectionString, "--TaskSystem:Concurrency", "16", "--TaskSystem:NodeName", "crash-test"];
        var accepted = new ConcurrentBag<long>();
        var stopClients = new CancellationTokenSource();
        long sentinelId;

        await using (var server = await ServerProcess.StartAsync(settings))
        {
            var clients = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
            {
                var random = new Random(i);
                while (!stopClients.IsCancellationRequested)
                {
                    try
                    {
                        using var response = await server.Client.PostAsync(
                            new Uri("/tasks", UriKind.Relative),
                            new StringContent($$$"""{"type": "demo", "payload": {"durationMs": {{{random.Next(20, 200)}}}, "client": {{{i}}}}}"""));
                        if (response.StatusCode == HttpStatusCode.Created)
                        {
                            accepted.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64());
                        }
                    }
                    catch (HttpRequestException)
                    {
                        // The server died mid-request: no 201, so no promise was made.
                    }
                }
            })).ToArray();

            // Kill while clients enqueue and tasks run, one of them known to be mid-run: an accepted task of several
            // seconds, ahead of the queue. (Which of the clients' short tasks run at the kill is a matter of timing:
            // on a loaded machine they can all be ones whose 201 had not reached the client yet.)
            await Eventually.Until(async () => (await RunningCountAsync(server.Client), accepted.Count), s => s.Item1 > 0 && s.Item2 >= 200,
                because: "tasks running and 200 accepted");
            using var sentinel = await server.Client.PostAsync(
                new Uri("/tasks", UriKind.Relative), new StringContent("""{"type": "demo", "priority": -1000, "payload": {"durationMs": 8000}}"""));
            sentinelId = (await sentinel.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
            accepted.Add(sentinelId);
            await server.Client.WaitForStateAsync(sentinelId, "running");
            await server.KillAsync();
            await stopClients.CancelAsync();
            await Task.WhenAll(clients);
        }

        await using var restarted = await ServerProcess.StartAsync(settings);
        var ids = accepted.ToHashSet();
        var succeeded = await Eventually.Until(() => SucceededAsync(restarted.Client), done => ids.IsSubsetOf(done.Keys), TimeSpan.FromSeconds(90),
            $"all {ids.Count} accepted tasks to succeed after the restart");

        // The task that ran when the process died ran again, and its attempt count shows it.
        Assert.Equal(2, succeeded[sentinelId]);
    }

    [Fact]
    public async Task Sigterm_PutsRunningTasksBackWithoutCountingAnAttempt_AndExitsCleanly()
    {
        using var directory = new TempDirectory();
        string[] settings = ["--TaskSystem:ConnectionString", directory.SqliteConnectionString, "--TaskSystem:ShutdownTimeout", "00:00:01", "--TaskSystem:NodeName", "sigterm-test"];
        long id;
        await using (var server = await ServerProcess.StartAsync(settings))
        {
            using var response = await server.Client.PostAsync(new Uri("/tasks", UriKind.Relative), new StringContent("""{"type": "demo", "payload": {"durationMs": 600000}}"""));
            id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
            await server.Client.WaitForStateAsync(id, "running");

            var exitCode = await server.TerminateAsync(TimeSpan.FromSeconds(20));

            Assert.Equal(0, exitCode);
        }

        await using var restarted = await ServerProcess.StartAsync(settings);
        var task = await restarted.Client.WaitForStateAsync(id, "running");
        Assert.Equal(1, task.GetProperty("attempt").GetInt32());
        Assert.Empty(task.GetProperty("errors").EnumerateArray());
    }

    private static async Task<int> RunningCountAsync(HttpClient client)
    {
        try
        {
            var page = await client.GetFromJsonAsync<JsonElement>(new Uri("/tasks?state=running", UriKind.Relative));
            return page.GetProperty("tasks").GetArrayLength();
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }

    /// <summary>Every succeeded task's attempt count, paging through the list.</summary>
    private static async Task<Dictionary<long, int>> SucceededAsync(HttpClient client)
    {
        var attempts = new Dictionary<long, int>();
        var query = "/tasks?state=succeeded&limit=1000";
        while (true)
        {
            var page = await client.GetFromJsonAsync<JsonElement>(new Uri(query, UriKind.Relative));
            foreach (var task in page.GetProperty("tasks").EnumerateArray())
            {
                attempts[task.GetProperty("id").GetInt64()] = task.GetProperty("attempt").GetInt32();
            }

            if (page.GetProperty("nextCursor").ValueKind == JsonValueKind.Null)
            {
                return attempts;
            }

            query = $"/tasks?state=succeeded&limit=1000&cursor={page.GetProperty("nextCursor").GetString()}";
        }
    }
}
