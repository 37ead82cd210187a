using System.Net;
using TaskSystem.Server.Tests.Support;

namespace TaskSystem.Server.Tests.Diagnostics;

/// <summary>
/// GET /metrics serves every documented metric in the Prometheus text format. A server's meter provider sees every
/// TaskSystem meter of the process, so this runs alone (after the parallel tests).
/// </summary>
[Collection(ProcessWideTelemetry.Name)]
public sealed class MetricsEndpointTests
{
    /// <summary>The names as docs/production.md lists them.</summary>
    public static readonly string[] DocumentedNames =
    [
        "tasksystem_tasks_enqueued_total",
        "tasksystem_tasks_started_total",
        "tasksystem_tasks_succeeded_total",
        "tasksystem_tasks_failed_total",
        "tasksystem_tasks_cancelled_total",
        "tasksystem_tasks_retried_total",
        "tasksystem_tasks_rejected_total",
        "tasksystem_task_queue_wait_seconds_bucket",
        "tasksystem_task_duration_seconds_bucket",
        "tasksystem_queue_depth",
        "tasksystem_workers_busy",
        "tasksystem_workers_total",
        "http_server_request_duration_seconds_bucket",
    ];

    [Fact]
    public async Task Metrics_AfterRealWork_ServesEveryDocumentedMetric_WithTypeAndQueueLabels()
    {
        await using var factory = new ApiFactory();
        factory.Settings["TaskSystem:CountsRefreshInterval"] = "00:00:00.100";
        // Room for the four tasks below whatever the cache says (it counts accepted tasks until the next refresh).
        factory.Settings["TaskSystem:MaxQueued"] = "5";
        using var client = factory.CreateClient();

        var ok = await client.PostTaskAsync("""{"type": "demo", "queue": "metrics", "payload": {"durationMs": 0}}""");
        var flaky = await client.PostTaskAsync("""{"type": "demo", "queue": "metrics", "payload": {"durationMs": 0, "failAttempts": 1}}""");
        var broken = await client.PostTaskAsync("""{"type": "demo", "queue": "metrics", "maxAttempts": 1, "payload": {"durationMs": 0, "failAttempts": 1}}""");
        await client.WaitForStateAsync(ok.Id(), "succeeded");
        await client.WaitForStateAsync(flaky.Id(), "succeeded");
        await client.WaitForStateAsync(broken.Id(), "failed");
        var later = await client.PostTaskAsync("""{"type": "demo", "queue": "metrics", "runAt": "2099-01-01T00:00:00Z"}""");
        using (await client.DeleteAsync(new Uri($"/tasks/{later.Id()}", UriKind.Relative)))
        {
        }

        await FillTheQueueUntilRejectedAsync(client);

        var text = await Eventually.Until(
            () => client.GetStringAsync(new Uri("/metrics", UriKind.Relative)),
            body => DocumentedNames.All(name => body.Contains(name + "{", StringComparison.Ordinal)),
            because: "every documented metric to be served");
        Assert.Contains("tasksystem_tasks_enqueued_total{otel_scope_name=\"TaskSystem\"", text, StringComparison.Ordinal);
        Assert.Matches("tasksystem_tasks_succeeded_total\\{[^}]*task_queue=\"metrics\",task_type=\"demo\"\\} 2", text);
        Assert.Matches("tasksystem_tasks_failed_total\\{[^}]*task_queue=\"metrics\",task_type=\"demo\"\\} 1", text);
        Assert.Matches("tasksystem_tasks_retried_total\\{[^}]*task_queue=\"metrics\",task_type=\"demo\"\\} 1", text);
        Assert.Matches("tasksystem_tasks_cancelled_total\\{[^}]*task_queue=\"metrics\",task_type=\"demo\"\\} 1", text);
        Assert.Matches("tasksystem_workers_total\\{[^}]*tasksystem_node=\"api-test\"\\} 8", text);
    }

    private static async Task FillTheQueueUntilRejectedAsync(HttpClient client)
    {
        for (var i = 0; i < 10; i++)
        {
            using var response = await client.PostAsync(
                new Uri("/tasks", UriKind.Relative), new StringContent("""{"type": "demo", "queue": "full", "runAt": "2099-01-01T00:00:00Z"}"""));
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                return;
            }
        }

        Assert.Fail("MaxQueued never refused a task");
    }
}

/// <summary>Tests that read process-wide telemetry run after the parallel ones, one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideTelemetry
{
    public const string Name = "Process-wide telemetry";
}
