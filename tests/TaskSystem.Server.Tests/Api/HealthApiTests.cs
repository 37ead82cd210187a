using System.Net;
using Microsoft.Extensions.DependencyInjection;
using TaskSystem.Engine;
using TaskSystem.Server.Tests.Support;

namespace TaskSystem.Server.Tests.Api;

/// <summary>Liveness: the process answers. Readiness: the store answers and the workers run.</summary>
public sealed class HealthApiTests
{
    [Fact]
    public async Task Ready_WhileTheWorkersRun_AndNotOnceTheyStop_WhileLiveStays200()
    {
        await using var factory = new ApiFactory();
        using var client = factory.CreateClient();

        using (var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        await factory.Services.GetRequiredService<TaskEngine>().StopAsync(CancellationToken.None);

        using var notReady = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
        using var live = await client.GetAsync(new Uri("/health/live", UriKind.Relative));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }
}
