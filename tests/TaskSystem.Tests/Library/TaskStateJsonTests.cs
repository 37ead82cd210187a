using System.Text.Json;
using System.Text.Json.Serialization;

namespace TaskSystem.Tests.Library;

/// <summary>
/// An app that returns TaskManager's records from its own endpoints (the README's quick start does) shows a task's
/// state by its wire name, as the HTTP API does, with reflection-based JSON and with a source-generated context alike.
/// </summary>
public sealed class TaskStateJsonTests
{
    [Fact]
    public void TaskState_IsWrittenAndReadAsItsWireName_WithReflectionAndWithASourceGeneratedContext()
    {
        foreach (var state in TaskStates.All)
        {
            var reflection = JsonSerializer.Serialize(state, JsonSerializerOptions.Web);
            var generated = JsonSerializer.Serialize(state, StateJson.Default.TaskState);

            Assert.Equal($"\"{state.ToWire()}\"", reflection);
            Assert.Equal(reflection, generated);
            Assert.Equal(state, JsonSerializer.Deserialize(generated, StateJson.Default.TaskState));
        }
    }

    [Fact]
    public void TaskInfo_InAnAppsOwnAnswer_SaysItsStateByName()
    {
        var now = DateTimeOffset.UnixEpoch;
        var task = new TaskInfo(7, "send-welcome-email", "default", 0, JsonDocument.Parse("{}").RootElement, TaskState.Succeeded, 1, 3, TimeSpan.FromMinutes(1), now, now, now, now, null, null, "node-1", false, []);

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(task, JsonSerializerOptions.Web));

        Assert.Equal("succeeded", json.RootElement.GetProperty("state").GetString());
    }
}

[JsonSerializable(typeof(TaskState))]
internal sealed partial class StateJson : JsonSerializerContext;
