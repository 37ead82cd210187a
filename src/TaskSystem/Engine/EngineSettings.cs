namespace TaskSystem.Engine;

/// <summary>The options the engine reads on its hot paths, resolved once at start.</summary>
internal sealed record EngineSettings(
    string Node,
    int Concurrency,
    TimeSpan StopGracePeriod,
    TimeSpan ShutdownTimeout,
    TimeSpan PollInterval,
    TimeSpan StopPollInterval,
    TimeSpan LeaseDuration,
    TimeSpan HeartbeatInterval,
    TimeSpan RescueInterval,
    TimeSpan RetryBaseDelay,
    TimeSpan RetryMaxDelay,
    int MaxPayloadBytes,
    int MaxJsonDepth,
    bool ClaimAhead = true)
{
    public static EngineSettings From(TaskSystemOptions options) => new(
        options.NodeName,
        options.Concurrency,
        options.StopGracePeriod,
        options.ShutdownTimeout,
        options.PollInterval,
        options.StopPollInterval,
        options.LeaseDuration,
        options.HeartbeatInterval,
        options.RescueInterval,
        options.RetryBaseDelay,
        options.RetryMaxDelay,
        options.MaxPayloadBytes,
        options.MaxJsonDepth,
        options.ClaimAhead);
}
