using System.Reflection;
using TaskSystem.Storage;

namespace TaskSystem.Tests.Support;

/// <summary>
/// Wraps a store so that a test can hold a claim after it committed and before the dispatcher sees it:
/// the window in which a shutdown or a stop can race a claim.
/// </summary>
public class ClaimGate : DispatchProxy
{
    private ITaskStore _inner = null!;

    public bool Hold { get; set; }

    public TaskCompletionSource Claimed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal static (ITaskStore Store, ClaimGate Gate) Wrap(ITaskStore inner)
    {
        var store = Create<ITaskStore, ClaimGate>();
        var gate = (ClaimGate)(object)store;
        gate._inner = inner;
        return (store, gate);
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        var result = targetMethod!.Invoke(_inner, args);
        return targetMethod.Name == nameof(ITaskStore.TasksClaimAsync) ? HoldAsync((Task<IReadOnlyList<TaskRecord>>)result!) : result;
    }

    private async Task<IReadOnlyList<TaskRecord>> HoldAsync(Task<IReadOnlyList<TaskRecord>> claim)
    {
        var claimed = await claim;
        if (Hold && claimed.Count > 0)
        {
            Claimed.TrySetResult();
            await Release.Task;
        }

        return claimed;
    }
}
