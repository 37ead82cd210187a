using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using TaskSystem.Server.Tests.Support;
using TaskSystem.Tests.Support;
using Xunit.Abstractions;

namespace TaskSystem.Server.Tests.Api;

/// <summary>
/// A full disk under the SQLite store, through the real server: clear 503s while it is full, nothing accepted lost,
/// writes back by themselves within seconds once space is freed, and a start on a nearly full disk.
/// </summary>
public sealed class DiskFullTests(ITestOutputHelper output)
{
    /// <summary>"Within seconds": the writer retries its checkpoint every second; the rest is slack for a loaded machine.</summary>
    private static readonly TimeSpan Resumes = TimeSpan.FromSeconds(10);

    private static readonly string Payload = new('p', 4000);

    [Fact]
    public async Task FullVolume_Answers503_LosesNothing_ResumesWithinSecondsOnceFreed_AndStartsAgainNearlyFull()
    {
        using var volume = FillableVolume.SmallestReal(out var why);
        output.WriteLine(why);
        await RunAsync(volume);
    }

    [Fact]
    public async Task DatabaseAtSqlitesPageLimit_Answers503_LosesNothing_ResumesWithinSecondsOnceRaised_AndStartsAgainAtTheLimit()
    {
        using var volume = new PageLimitVolume();
        await RunAsync(volume);
    }

    private async Task RunAsync(FillableVolume volume)
    {
        var accepted = new ConcurrentBag<long>();
        var walPeak = 0L;
        await using (var factory = Start(volume))
        {
            using var client = factory.CreateClient();
            await volume.LeaveLittleRoomAsync(factory.Services);

            // Fill it with tasks until the store refuses one.
            var refused = await PostUntilRefusedAsync(client, accepted, () => walPeak = Math.Max(walPeak, WalBytes(volume)));
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.NotNull(refused.Headers.RetryAfter);
            var problem = await refused.ReadJsonAsync();
            Assert.Equal(503, problem.GetProperty("status").GetInt32());
            Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, await ReadyAsync(client));
            output.WriteLine($"{accepted.Count} tasks accepted before the first 503");

            // Whatever room was left goes too (another process takes it). Pages freed inside the file may still take a
            // task or two: post until one is refused again.
            await volume.FillCompletelyAsync(factory.Services);
            (await PostUntilRefusedAsync(client, accepted, () => walPeak = Math.Max(walPeak, WalBytes(volume)))).Dispose();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, await ReadyAsync(client));

            // Space is freed: writes come back by themselves, and stay back.
            await volume.FreeAsync(factory.Services);
            var freed = Stopwatch.StartNew();
            await Eventually.Until(async () => await AcceptedAsync(client, accepted), ok => ok, Resumes, "a POST to be accepted after space was freed");
            output.WriteLine($"first 201 {freed.Elapsed.TotalSeconds:0.0} s after space was freed");
            for (var i = 0; i < 150; i++)
            {
                walPeak = Math.Max(walPeak, WalBytes(volume));
                Assert.True(await AcceptedAsync(client, accepted), $"POST {i} after recovery was refused");
            }

            await AllSucceededAsync(client, accepted);
            await Eventually.Until(() => ReadyAsync(client), status => status == HttpStatusCode.OK, TimeSpan.FromSeconds(20), "readiness after recovery");
        }

        // The WAL never took more than its budget (sized for the volume) and a batch or two, even while the disk was full.
        var budget = new TaskSystem.Storage.Sqlite.SqliteVolume(volume.DatabasePath).WalBudgetBytes;
        output.WriteLine($"WAL peak {walPeak / 1024} KB, budget {budget / 1024} KB");
        Assert.InRange(walPeak, 0, (2 * budget) + (512 * 1024));

        // A start on a nearly full disk: recovery and the node's own writes fit, every accepted task is still there.
        await volume.LeaveNearlyNoRoomAsync();
        await using (var restarted = Start(volume))
        {
            using var client = restarted.CreateClient();
            await AllSucceededAsync(client, accepted);
            using var refused = await PostAsync(client);
            Assert.Contains(refused.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.ServiceUnavailable });

            await volume.FreeAsync(restarted.Services);
            await Eventually.Until(async () => await AcceptedAsync(client, accepted), ok => ok, Resumes, "a POST to be accepted after the restart");
            await AllSucceededAsync(client, accepted);
        }
    }

    private static ApiFactory Start(FillableVolume volume)
    {
        // Readiness remembers a failed write for a heartbeat interval and 5 s: a short interval keeps the test short.
        var factory = new ApiFactory { Settings = { ["TaskSystem:HeartbeatInterval"] = "00:00:01" } };
        volume.Use(factory);
        return factory;
    }

    /// <summary>Posts from four clients at once until one is refused; returns that refusal.</summary>
    private static async Task<HttpResponseMessage> PostUntilRefusedAsync(HttpClient client, ConcurrentBag<long> accepted, Action sample)
    {
        var refusal = new TaskCompletionSource<HttpResponseMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        var deadline = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!refusal.Task.IsCompleted && deadline.Elapsed < TimeSpan.FromMinutes(1))
            {
                sample();
                var response = await PostAsync(client);
                if (response.StatusCode == HttpStatusCode.Created)
                {
                    accepted.Add((await response.ReadJsonAsync()).Id());
                    response.Dispose();
                }
                else if (!refusal.TrySetResult(response))
                {
                    response.Dispose();
                }
            }
        })));

        Assert.True(refusal.Task.IsCompleted, $"the store accepted {accepted.Count} tasks in a minute without refusing one");
        return await refusal.Task;
    }

    private static async Task<bool> AcceptedAsync(HttpClient client, ConcurrentBag<long> accepted)
    {
        using var response = await PostAsync(client);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            return false;
        }

        accepted.Add((await response.ReadJsonAsync()).Id());
        return true;
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient client) =>
        client.PostAsync(new Uri("/tasks", UriKind.Relative), new StringContent(JsonSerializer.Serialize(new { type = "demo", payload = new { durationMs = 0, pad = Payload } })));

    private static async Task<HttpStatusCode> ReadyAsync(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
        return response.StatusCode;
    }

    private static async Task AllSucceededAsync(HttpClient client, ConcurrentBag<long> accepted)
    {
        foreach (var id in accepted)
        {
            await client.WaitForStateAsync(id, "succeeded", TimeSpan.FromSeconds(30));
        }
    }

    private static long WalBytes(FillableVolume volume)
    {
        try
        {
            return new FileInfo(volume.DatabasePath + "-wal").Length;
        }
        catch (FileNotFoundException)
        {
            // No WAL at this moment (before the first write, or deleted at a clean close).
            return 0;
        }
    }
}
