using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using TaskSystem.Configuration;
using TaskSystem.Diagnostics;
using TaskSystem.Engine;
using TaskSystem.Maintenance;
using TaskSystem.Storage;
using TaskSystem.Tests.Support;

namespace TaskSystem.Tests.Maintenance;

/// <summary>
/// Self-fencing's timing rules on a fake clock: when an attempt whose lease was not renewed is cancelled, and what
/// it leaves alone. The real thing, a node cut off from PostgreSQL, is in <c>Engine/SelfFencingClusterTests</c>.
/// </summary>
public sealed class SelfFencingTests
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(T0);
    private readonly RunningTasks _running;
    private readonly SelfFencing _fencing;

    public SelfFencingTests()
    {
        // The defaults: a 30 s lease, fenced after 20 s without a confirmed renewal.
        var options = new TaskSystemOptions();
        _running = new RunningTasks(_time);
        _fencing = new SelfFencing(_running, EngineSettings.From(options), Options.Create(options), _time, NullLogger<SelfFencing>.Instance);
    }

    private TaskExecution Claimed(long id, DateTimeOffset leaseExpiresAt)
    {
        var execution = new TaskExecution(new TaskRecord
        {
            Id = id,
            Type = "t",
            Queue = "default",
            Priority = 0,
            PayloadJson = "{}",
            State = TaskState.Running,
            Attempt = 1,
            MaxAttempts = 3,
            Timeout = TimeSpan.FromMinutes(5),
            CreatedAt = T0,
            RunAt = T0,
            Node = "n1",
            ClaimId = id,
            LeaseExpiresAt = leaseExpiresAt,
        });
        _running.Add(execution);
        return execution;
    }

    [Fact]
    public async Task Check_LeaseNotRenewedForSelfFenceAfter_CancelsTheAttemptAsInterrupted_NotASecondBefore()
    {
        using var execution = Claimed(1, T0.AddSeconds(30));

        _time.Advance(TimeSpan.FromSeconds(19.999));
        await _fencing.CheckAsync(CancellationToken.None);
        Assert.False(execution.Token.IsCancellationRequested);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        await _fencing.CheckAsync(CancellationToken.None);
        Assert.True(execution.Token.IsCancellationRequested);
        Assert.Equal(StopReason.Interrupted, execution.Reason);
    }

    [Fact]
    public async Task Check_AConfirmedRenewal_MovesTheFenceWithTheLease()
    {
        using var execution = Claimed(1, T0.AddSeconds(30));
        _time.Advance(TimeSpan.FromSeconds(10));
        execution.RenewLease(T0.AddSeconds(40));

        _time.Advance(TimeSpan.FromSeconds(19));
        await _fencing.CheckAsync(CancellationToken.None);
        Assert.False(execution.Token.IsCancellationRequested);

        _time.Advance(TimeSpan.FromSeconds(1));
        await _fencing.CheckAsync(CancellationToken.None);
        Assert.Equal(StopReason.Interrupted, execution.Reason);
    }

    [Fact]
    public void RenewLease_AnOlderRenewalAnsweredLate_NeverMovesTheLeaseBack()
    {
        using var execution = Claimed(1, T0.AddSeconds(30));

        execution.RenewLease(T0.AddSeconds(50));
        execution.RenewLease(T0.AddSeconds(40));

        Assert.Equal(T0.AddSeconds(50), execution.LeaseExpiresAt);
    }

    [Fact]
    public async Task Check_LeavesAloneWhatHasNothingLeftToStop_AndWhatIsStillCovered()
    {
        using var stopped = Claimed(1, T0.AddSeconds(30));
        using var returned = Claimed(2, T0.AddSeconds(30));
        using var covered = Claimed(3, T0.AddSeconds(60));
        stopped.RequestStop();
        returned.MarkHandlerReturned();

        _time.Advance(TimeSpan.FromSeconds(25));
        await _fencing.CheckAsync(CancellationToken.None);

        Assert.Equal((StopReason.Stopped, StopReason.None, StopReason.None), (stopped.Reason, returned.Reason, covered.Reason));
        Assert.False(returned.Token.IsCancellationRequested);
    }

    [Theory]
    [InlineData(30, null, 1000)]
    [InlineData(3, 2.0, 250)]
    [InlineData(3, 2.9, 50)]
    public void CheckInterval_IsAQuarterOfWhatIsLeftOfTheLease_BetweenFiftyMillisecondsAndASecond(int leaseSeconds, double? fenceAfterSeconds, int expectedMs)
    {
        var options = new TaskSystemOptions
        {
            LeaseDuration = TimeSpan.FromSeconds(leaseSeconds),
            HeartbeatInterval = TimeSpan.FromSeconds(leaseSeconds) / 3,
            SelfFenceAfter = fenceAfterSeconds is { } f ? TimeSpan.FromSeconds(f) : null,
        };
        var fencing = new SelfFencing(_running, EngineSettings.From(options), Options.Create(options), _time, NullLogger<SelfFencing>.Instance);

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), fencing.CheckInterval);
    }

    [Theory]
    [InlineData(10, "more than TaskSystem:HeartbeatInterval")]
    [InlineData(30, "less than TaskSystem:LeaseDuration")]
    [InlineData(45, "less than TaskSystem:LeaseDuration")]
    public void SelfFenceAfter_OutsideHeartbeatToLease_IsRefusedAtStart_NamingTheSetting(int seconds, string rule)
    {
        var options = new TaskSystemOptions { SelfFenceAfter = TimeSpan.FromSeconds(seconds) };

        var result = new TaskSystemOptionsValidator([]).Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith("TaskSystem:SelfFenceAfter", StringComparison.Ordinal) && f.Contains(rule, StringComparison.Ordinal));
    }

    [Fact]
    public void SelfFenceAfter_ByDefault_IsTwoThirdsOfTheLease_AndValid()
    {
        var options = new TaskSystemOptions { LeaseDuration = TimeSpan.FromSeconds(12), HeartbeatInterval = TimeSpan.FromSeconds(6) };

        Assert.Equal(TimeSpan.FromSeconds(8), options.SelfFenceAfterOrDefault);
        Assert.True(new TaskSystemOptionsValidator([]).Validate(null, options).Succeeded);
    }

    [Fact]
    public async Task MaintenanceLoop_AfterAFailedRun_RunsAgainAfterItsRetryInterval_ThenKeepsItsInterval()
    {
        var runs = new LockedCollection<DateTimeOffset>();
        var fail = 2;
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var settings = EngineSettings.From(new TaskSystemOptions());
        var metrics = new TaskMetrics(services.GetRequiredService<IMeterFactory>(), new WorkerSlots(1, new WakeSignal()), new TasksClaimedAhead(1, TimeProvider.System), new QueueCounts(0), settings);
        using var loop = new MaintenanceLoop(
            "heartbeat",
            TimeSpan.FromSeconds(10),
            _ =>
            {
                runs.Add(_time.GetUtcNow());
                return Interlocked.Decrement(ref fail) >= 0 ? Task.FromException(new TaskStoreUnavailableException("down")) : Task.CompletedTask;
            },
            metrics,
            _time,
            NullLogger.Instance)
        { RetryInterval = TimeSpan.FromSeconds(2) };
        loop.Start();

        await _time.AdvanceUntilAsync(TimeSpan.FromSeconds(1), () => runs.Count >= 5, "five runs");
        await loop.StopAsync();

        // Fails twice, each time tried again 2 s later (3 s if the clock stepped on before the loop reset its timer),
        // succeeds on the third run, then back to every 10 s.
        var at = runs.Snapshot();
        var gaps = at.Zip(at.Skip(1), (a, b) => (int)(b - a).TotalSeconds).Take(4).ToList();
        Assert.All(gaps.Take(2), gap => Assert.InRange(gap, 2, 3));
        Assert.All(gaps.Skip(2), gap => Assert.InRange(gap, 10, 11));
    }
}
