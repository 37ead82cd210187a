using TaskSystem.AspNetCore.Diagnostics;
using TaskSystem.AspNetCore.Http;

namespace TaskSystem.AspNetCore.Dashboard;

/// <summary>
/// One per server process, whatever the number of open dashboards: while at least one stream is open, it reads the
/// cheap figures every <see cref="DashboardTimings.Tick"/> (sooner after a write through this server), and broadcasts a
/// <c>stats</c> event when they changed, and a <c>progress</c> event when running tasks' progress changed. The dearer overview follows, at most every <see cref="DashboardTimings.OverviewInterval"/>
/// while things change and at least every <see cref="DashboardTimings.OverviewRefresh"/>. With no stream open it reads nothing.
/// Both intervals stretch with the cost of their reads, so that on a huge store the watcher still uses a small,
/// bounded share of a core: a tick waits ten times its cost, an overview twenty times its cost. The costs are followed
/// rather than taken as measured: a read counts at most twice the previous estimate, so one slow read (the first one
/// compiles the code; a pause of the collector; a machine busy with other work) cannot stop the dashboards for seconds,
/// while a store that really got slower is followed within a few ticks.
/// </summary>
internal sealed class DashboardWatcher(
    DashboardEventHub hub, DashboardQueries queries, DashboardTimings timings, TimeProvider time, ILogger<DashboardWatcher> logger)
    : BackgroundService
{
    /// <summary>Ticks never come closer than this, however many writes poke the watcher.</summary>
    private static readonly TimeSpan MinTickGap = TimeSpan.FromMilliseconds(100);

    /// <summary>A tick waits at least this many times its own cost: the watcher stays under a tenth of a core on any store.</summary>
    private const int LoadFactor = 10;

    private static readonly TimeSpan IdleWait = TimeSpan.FromMinutes(1);

    /// <summary>Where cost estimates start, and their floor: a cheap read.</summary>
    private static readonly TimeSpan CheapRead = TimeSpan.FromMilliseconds(5);

    /// <summary>The new estimate of a read's cost: the measured one, but at most twice the previous estimate, and at least <see cref="CheapRead"/>.</summary>
    internal static TimeSpan Follow(TimeSpan estimate, TimeSpan measured)
    {
        var bounded = measured < estimate * 2 ? measured : estimate * 2;
        return bounded > CheapRead ? bounded : CheapRead;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        StatsResponse? stats = null;
        OverviewResponse? overview = null;
        ProgressResponse? progress = null;
        var overviewAt = 0L;
        var overviewCost = CheapRead;
        var tickCost = CheapRead;
        var overviewStale = true;
        var failing = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            if (hub.Count == 0)
            {
                // Nobody watches: forget what was seen, so the next stream gets fresh figures.
                stats = null;
                overview = null;
                progress = null;
                hub.Forget();
                await hub.WaitForPokeAsync(IdleWait, time, stoppingToken);
                continue;
            }

            var started = time.GetTimestamp();
            try
            {
                var fresh = hub.TakeNewSubscribers();
                var current = await queries.ReadStatsAsync(stoppingToken);
                overviewStale |= hub.TakeOverviewWanted();
                if (!current.SameFiguresAs(stats))
                {
                    stats = current;
                    overviewStale = true;
                    hub.Publish("stats", current, ApiJsonContext.Default.StatsResponse);
                }
                else if (fresh.Count > 0)
                {
                    hub.Publish("stats", current, ApiJsonContext.Default.StatsResponse, fresh);
                }

                var sinceOverview = time.GetElapsedTime(overviewAt);
                var overviewGap = overviewCost * LoadFactor * 2 > timings.OverviewInterval ? overviewCost * LoadFactor * 2 : timings.OverviewInterval;
                if (overview is null || (overviewStale && sinceOverview >= overviewGap) || sinceOverview >= timings.OverviewRefresh)
                {
                    var overviewStarted = time.GetTimestamp();
                    overview = await queries.ReadOverviewAsync(current, stoppingToken);
                    overviewAt = time.GetTimestamp();
                    overviewCost = Follow(overviewCost, time.GetElapsedTime(overviewStarted));
                    overviewStale = false;
                    hub.Publish("overview", overview, ApiJsonContext.Default.OverviewResponse);
                }
                else if (fresh.Count > 0)
                {
                    hub.Publish("overview", overview, ApiJsonContext.Default.OverviewResponse, fresh);
                }

                // Progress changes without changing the counts: read it each tick while tasks run (its cost follows them).
                if ((current.Counts.TryGetValue("running", out var running) && running > 0) || progress is { Tasks.Count: > 0 })
                {
                    var read = await queries.ReadProgressAsync(stoppingToken);
                    if (!read.SameAs(progress))
                    {
                        progress = read;
                        hub.Publish("progress", read, ApiJsonContext.Default.ProgressResponse);
                    }
                    else if (fresh.Count > 0)
                    {
                        hub.Publish("progress", read, ApiJsonContext.Default.ProgressResponse, fresh);
                    }
                }

                if (failing)
                {
                    failing = false;
                    AspNetCoreLog.DashboardWatchRecovered(logger);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // The store is unreachable or busy: say so once, keep the streams open, try again next tick.
                if (!failing)
                {
                    failing = true;
                    AspNetCoreLog.DashboardWatchFailed(logger, exception);
                }
            }

            tickCost = Follow(tickCost, time.GetElapsedTime(started));
            var pause = tickCost * LoadFactor > MinTickGap ? tickCost * LoadFactor : MinTickGap;
            await Task.Delay(pause, time, stoppingToken);
            if (timings.Tick > pause)
            {
                await hub.WaitForPokeAsync(timings.Tick - pause, time, stoppingToken);
            }
        }
    }
}
