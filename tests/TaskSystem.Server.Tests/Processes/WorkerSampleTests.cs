using System.Net;
using System.Text.Json;
using TaskSystem.Server.Tests.Support;
using TaskSystem.Tests.Support;

namespace TaskSystem.Server.Tests.Processes;

/// <summary>
/// The Python and Node.js sample workers, run as child processes, against the real server (its own code on Kestrel,
/// over a loopback socket: see <see cref="InProcessServer"/>): they run tasks, report results and failures, honour a
/// stop; and a worker killed mid-task loses the task to another, which finishes it once.
/// </summary>
public sealed class WorkerSampleTests
{
    private static string[] Settings(TempDirectory directory, string node) =>
    [
        "--TaskSystem:ConnectionString", directory.SqliteConnectionString,
        "--TaskSystem:NodeName", node,
        "--TaskSystem:ExternalTypes:0", "echo",
        "--TaskSystem:ExternalTypes:1", "word-count",
        "--TaskSystem:RescueInterval", "00:00:00.250",
        "--TaskSystem:StopGracePeriod", "00:00:05",
    ];

    [Theory]
    [InlineData("python")]
    [InlineData("node")]
    public async Task Sample_RunsTasks_ReportsResultsAndFailures_AndHonoursAStop(string language)
    {
        using var directory = new TempDirectory();
        await using var server = await InProcessServer.StartAsync(Settings(directory, $"samples-{language}"));
        await using var worker = WorkerSample.Start(language, server.Address, $"{language}-1");

        var counted = await server.Client.PostTaskAsync("""{"type": "word-count", "payload": {"text": "the quick brown fox"}}""");
        var bad = await server.Client.PostTaskAsync("""{"type": "word-count", "payload": {"text": 42}}""");
        var echoed = await server.Client.PostTaskAsync("""{"type": "echo", "payload": {"seconds": 0.1, "note": "hi"}}""");
        var endless = await server.Client.PostTaskAsync("""{"type": "echo", "payload": {"seconds": 3600}}""");

        var words = await WaitAsync(server, worker, counted.Id(), "succeeded");
        var refused = await WaitAsync(server, worker, bad.Id(), "failed");
        var echo = await WaitAsync(server, worker, echoed.Id(), "succeeded");
        await WaitAsync(server, worker, endless.Id(), "running");
        using var stop = await server.Client.DeleteAsync(new Uri($"/tasks/{endless.Id()}", UriKind.Relative));
        var stopped = await server.Client.GetTaskAsync(endless.Id());

        Assert.Equal((4, $"worker:{language}-1"), (words.GetProperty("result").GetProperty("words").GetInt32(), words.GetProperty("node").GetString()));
        Assert.Equal(1, refused.GetProperty("attempt").GetInt32());
        Assert.EndsWith("payload.text must be a string", refused.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("hi", echo.GetProperty("result").GetProperty("note").GetString());
        Assert.True(stop.StatusCode == HttpStatusCode.NoContent, $"DELETE answered {(int)stop.StatusCode}; worker output:\n{worker.Output}");
        Assert.Equal("cancelled", stopped.State());
        Assert.False(worker.HasExited, worker.Output);
    }

    [Theory]
    [InlineData("python")]
    [InlineData("node")]
    public async Task Sample_KilledMidTask_TheTaskRunsAgainOnAnotherWorker_AndFinishesOnceRecorded(string language)
    {
        using var directory = new TempDirectory();
        await using var server = await InProcessServer.StartAsync(Settings(directory, $"kill-{language}"));
        var task = await server.Client.PostTaskAsync("""{"type": "echo", "payload": {"seconds": 2, "run": "once"}}""");

        await using (var doomed = WorkerSample.Start(language, server.Address, "doomed", leaseSeconds: 2))
        {
            var running = await WaitAsync(server, doomed, task.Id(), "running");
            Assert.Equal("worker:doomed", running.GetProperty("node").GetString());
            await doomed.KillAsync();
        }

        await using var survivor = WorkerSample.Start(language, server.Address, "survivor", leaseSeconds: 2);
        var done = await WaitAsync(server, survivor, task.Id(), "succeeded", TimeSpan.FromSeconds(30));

        Assert.Equal(("worker:survivor", 2, "once"), (done.GetProperty("node").GetString(), done.GetProperty("attempt").GetInt32(),
            done.GetProperty("result").GetProperty("run").GetString()));
        var error = Assert.Single(done.GetProperty("errors").EnumerateArray());
        Assert.Equal((1, "interrupted: worker doomed stopped renewing its lease"), (error.GetProperty("attempt").GetInt32(), error.GetProperty("error").GetString()));
        await Eventually.Until(() => survivor.Output.Contains($"task {task.Id()} (echo) attempt 2: succeeded", StringComparison.Ordinal),
            because: "the survivor to print what it recorded");
    }

    private static Task<JsonElement> WaitAsync(InProcessServer server, WorkerSample worker, long id, string state, TimeSpan? timeout = null) =>
        Eventually.Until(async () =>
        {
            Assert.False(worker.HasExited, "the worker exited:\n" + worker.Output);
            return await server.Client.GetTaskAsync(id);
        }, t => t.State() == state, timeout ?? TimeSpan.FromSeconds(20), $"task {id} to be {state}; worker output so far:\n{worker.Output}");
}
