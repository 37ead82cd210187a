namespace TaskSystem.PostgreSql;

/// <summary>The LISTEN/NOTIFY channels nodes talk on. Each payload starts with the sender's node name, or the target's.</summary>
internal static class PostgresChannels
{
    /// <summary>Tasks became ready (an insert or a retry committed). Payload: the sending node.</summary>
    public const string TasksReady = "tasksystem_tasks";

    /// <summary>A running task has a stop request. Payload: the task id, a space, the owning node.</summary>
    public const string Stop = "tasksystem_stop";

    /// <summary>A task with a stop request left running (cancelled, finished, or rescued). Payload: the task id.</summary>
    public const string Stopped = "tasksystem_stopped";

    /// <summary>A schedule was created, replaced, paused, resumed or deleted. Payload: the sending node.</summary>
    public const string Schedules = "tasksystem_schedules";
}
