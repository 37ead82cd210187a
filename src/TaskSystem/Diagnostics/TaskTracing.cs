using System.Diagnostics;
using TaskSystem.Storage;

namespace TaskSystem.Diagnostics;

/// <summary>
/// The spans: <c>enqueue {type}</c> (producer) around an enqueue, whose context is stored with the task, and
/// <c>run {type}</c> (consumer) around each attempt, a child of that stored context on whichever node runs it.
/// Retries are separate run spans of the same trace. Nothing is allocated when nobody listens.
/// </summary>
internal static class TaskTracing
{
    public const string TaskId = "task.id";
    public const string TaskType = "task.type";
    public const string TaskQueue = "task.queue";
    public const string TaskAttempt = "task.attempt";
    public const string TaskOutcome = "task.outcome";
    public const string TaskCount = "task.count";
    public const string Node = "tasksystem.node";

    public static readonly ActivitySource Source = new(TaskSystemDiagnostics.ActivitySourceName, typeof(TaskTracing).Assembly.GetName().Version?.ToString());

    /// <summary>Starts the producer span of an enqueue; it becomes <see cref="Activity.Current"/>, so the task stores its context.</summary>
    public static Activity? StartEnqueue(string? type)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        return Source.StartActivity(type is null ? "enqueue" : "enqueue " + type, ActivityKind.Producer);
    }

    public static void Enqueued(Activity? activity, IReadOnlyList<TaskRecord> tasks)
    {
        if (activity is not { IsAllDataRequested: true } || tasks.Count == 0)
        {
            return;
        }

        if (tasks.Count == 1)
        {
            activity.SetTag(TaskId, tasks[0].Id);
        }
        else
        {
            activity.SetTag(TaskCount, tasks.Count);
        }

        activity.SetTag(TaskQueue, tasks[0].Queue);
    }

    /// <summary>Starts the consumer span of one attempt, a child of the context stored at enqueue (a new trace without one).</summary>
    public static Activity? StartRun(TaskRecord task)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        // Whatever flowed into this worker (the host's start, say) is not this task's cause: only the stored context is.
        Activity.Current = null;
        ActivityContext.TryParse(task.TraceParent, null, isRemote: true, out var parent);
        var activity = Source.StartActivity("run " + task.Type, ActivityKind.Consumer, parent);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(TaskId, task.Id);
            activity.SetTag(TaskType, task.Type);
            activity.SetTag(TaskQueue, task.Queue);
            activity.SetTag(TaskAttempt, task.Attempt);
            activity.SetTag(Node, task.Node);
        }

        return activity;
    }

    /// <summary>Records the attempt's outcome; a failed one sets the error status and, when the handler threw, an <c>exception</c> event.</summary>
    public static void Finished(Activity? activity, TaskCompletion completion, Exception? exception = null)
    {
        if (activity is not { IsAllDataRequested: true })
        {
            return;
        }

        activity.SetTag(TaskOutcome, TaskMetrics.Outcome(completion.Kind));
        if (completion.Kind is CompletionKind.Retry or CompletionKind.Failed)
        {
            activity.SetStatus(ActivityStatusCode.Error, completion.Error);
            if (exception is not null)
            {
                activity.AddException(exception);
            }
        }
    }
}
