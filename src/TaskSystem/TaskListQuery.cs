namespace TaskSystem;

/// <summary>A page of tasks, newest first.</summary>
/// <param name="States">Only these states; null or empty for every state.</param>
/// <param name="Type">Only this type, when set.</param>
/// <param name="Queue">Only this queue, when set.</param>
/// <param name="Limit">At most this many tasks (1 to 1000).</param>
/// <param name="Cursor">The <see cref="TaskPage.NextCursor"/> of the previous page, or null for the first.</param>
public sealed record TaskListQuery(
    IReadOnlyCollection<TaskState>? States = null,
    string? Type = null,
    string? Queue = null,
    int Limit = TaskListQuery.DefaultLimit,
    string? Cursor = null)
{
    /// <summary>The page size when none is given.</summary>
    public const int DefaultLimit = 100;

    /// <summary>The largest page.</summary>
    public const int MaxLimit = 1000;
}

/// <summary>One page of tasks.</summary>
/// <param name="Tasks">The tasks, newest first.</param>
/// <param name="NextCursor">Pass it back for the next page; null on the last page.</param>
public sealed record TaskPage(IReadOnlyList<TaskInfo> Tasks, string? NextCursor);
