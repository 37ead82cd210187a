using System.Text.Json;

namespace TaskSystem;

/// <summary>
/// A parent of a continuation as its handler sees it (<see cref="TaskContext.ParentResultsAsync"/>): its outcome and
/// what it returned.
/// </summary>
/// <param name="Id">The parent's id.</param>
/// <param name="Type">The parent's type.</param>
/// <param name="State">Its state: succeeded, unless the continuation runs with <see cref="AfterPolicy.AnyOutcome"/>.</param>
/// <param name="Result">What its handler returned, or null.</param>
/// <param name="Error">Its last error, or null.</param>
public sealed record TaskParentResult(long Id, string Type, TaskState State, JsonElement? Result, string? Error);
