namespace TaskSystem.Engine;

/// <summary>Why an attempt's token was cancelled: the token itself carries no cause.</summary>
internal enum StopReason
{
    None,
    Stopped,
    TimedOut,
    ShuttingDown,

    /// <summary>
    /// The node could not renew the attempt's lease for <c>SelfFenceAfter</c> and cancelled it before the lease could
    /// run out (self-fencing): not a failure of the task.
    /// </summary>
    Interrupted,
}
