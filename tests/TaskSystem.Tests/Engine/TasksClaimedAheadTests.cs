using Microsoft.Extensions.Time.Testing;
using TaskSystem.Engine;

namespace TaskSystem.Tests.Engine;

/// <summary>
/// How many tasks a node claims ahead, from what its claims observe: sized to what the workers finish during one
/// claim's round trip, whether they finish during it or, for tasks shorter than the round itself, between claims.
/// </summary>
public sealed class TasksClaimedAheadTests
{
    private static readonly TimeSpan Flight = TimeSpan.FromMilliseconds(1);

    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void TasksThatFinishBeforeTheNextClaimIsSent_StillMakeTheNodeClaimAhead_UpToFourPerWorker()
    {
        var ahead = new TasksClaimedAhead(concurrency: 5, _time);

        // No-op tasks: those of each round finish before the next claim is sent, none during one (so the rule that
        // counted only completions during a claim held none back, and rounds stayed at the worker count).
        // Twice 60 finished per round trip would be 120: the cap of four per worker holds it at 20.
        ObserveRounds(ahead, rounds: 20, finishedBetweenClaims: 60, finishedDuringClaim: 0, between: TimeSpan.FromMilliseconds(1));

        Assert.Equal(20, ahead.Wanted);
    }

    [Fact]
    public void LongTasks_MakeTheNodeClaimNothingAhead()
    {
        var ahead = new TasksClaimedAhead(concurrency: 5, _time);

        // Tasks of a second on 5 workers: about one finishes between two claims, a second apart.
        ObserveRounds(ahead, rounds: 20, finishedBetweenClaims: 1, finishedDuringClaim: 0, between: TimeSpan.FromSeconds(1));

        Assert.Equal(0, ahead.Wanted);
    }

    [Fact]
    public void CompletionsDuringTheClaim_CountAsBefore()
    {
        var ahead = new TasksClaimedAhead(concurrency: 100, _time);

        // Many workers on short tasks: 3 finish during each claim's round trip, claims a second apart.
        ObserveRounds(ahead, rounds: 40, finishedBetweenClaims: 0, finishedDuringClaim: 3, between: TimeSpan.FromSeconds(1));

        Assert.Equal(6, ahead.Wanted);
    }

    private void ObserveRounds(TasksClaimedAhead ahead, int rounds, int finishedBetweenClaims, int finishedDuringClaim, TimeSpan between)
    {
        long finished = 0;
        for (var round = 0; round < rounds; round++)
        {
            _time.Advance(between);
            finished += finishedBetweenClaims;
            var before = finished;
            var sent = _time.GetTimestamp();
            _time.Advance(Flight);
            finished += finishedDuringClaim;
            ahead.ObserveClaim(before, finished, sent, _time.GetTimestamp());
        }
    }
}
