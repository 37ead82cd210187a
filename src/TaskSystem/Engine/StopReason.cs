namespace TaskSystem.Engine;

/// <summary>Why an attempt's token was cancelled: the token itself carries no cause.</summary>
internal enum StopReason
{
    None,
    Stopped,
    TimedOut,
    ShuttingDown,
}
