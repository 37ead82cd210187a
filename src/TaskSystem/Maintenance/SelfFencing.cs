using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TaskSystem.Diagnostics;
using TaskSystem.Engine;

namespace TaskSystem.Maintenance;

/// <summary>
/// Self-fencing, on stores shared by several nodes. Another node takes a task back once its lease has run out, and
/// assumes its owner is gone. A node cut off from the database is not gone: its handlers would go on running beside
/// the new attempt. So each node watches the leases it holds: an attempt whose last confirmed renewal is
/// <see cref="TaskSystemOptions.SelfFenceAfter"/> old is cancelled here, with the rest of the lease left for its
/// handler to stop, and its outcome is "interrupted" (back to the queue, not counted) rather than a failure.
/// With a single-process store nobody else can take a task, so there is nothing to fence.
/// </summary>
internal sealed class SelfFencing(RunningTasks running, EngineSettings settings, IOptions<TaskSystemOptions> options, TimeProvider time, ILogger<SelfFencing> logger)
{
    private static readonly TimeSpan MinCheckInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxCheckInterval = TimeSpan.FromSeconds(1);

    private readonly TimeSpan _fenceAfter = options.Value.SelfFenceAfterOrDefault;

    /// <summary>What is left of a lease when its attempt is fenced: the time its handler has to stop.</summary>
    private TimeSpan Margin => settings.LeaseDuration - _fenceAfter;

    /// <summary>How often the leases are looked at: a quarter of the margin at most, so a fence is late by little of it.</summary>
    public TimeSpan CheckInterval => TimeSpan.FromTicks(Math.Clamp(Margin.Ticks / 4, MinCheckInterval.Ticks, MaxCheckInterval.Ticks));

    /// <summary>Cancels every running attempt whose lease was not confirmed within <see cref="TaskSystemOptions.SelfFenceAfter"/>.</summary>
    public Task CheckAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        foreach (var execution in running.Snapshot())
        {
            // A handler already cancelled (stopped, timed out, fenced) or returned has nothing more to stop.
            if (execution.Reason != StopReason.None || execution.HandlerReturned || execution.IsOutcomeSubmitted)
            {
                continue;
            }

            var lease = execution.LeaseExpiresAt;
            if (now < lease - Margin)
            {
                continue;
            }

            var task = execution.Task;
            Log.AttemptFenced(logger, task.Id, task.Type, task.Attempt, _fenceAfter, lease);
            execution.Cancel(StopReason.Interrupted);
        }

        return Task.CompletedTask;
    }
}
