using System.Text.Json;
using System.Text.Json.Serialization;

namespace TaskSystem.AspNetCore.Http;

/// <summary>Source-generated JSON for the API's types: no reflection on the hot path.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(TaskResponse))]
[JsonSerializable(typeof(TaskListResponse))]
[JsonSerializable(typeof(TaskBatchResponse))]
[JsonSerializable(typeof(ScheduleResponse))]
[JsonSerializable(typeof(ScheduleListResponse))]
[JsonSerializable(typeof(Dashboard.StatsResponse))]
[JsonSerializable(typeof(Dashboard.OverviewResponse))]
[JsonSerializable(typeof(Dashboard.HandlersResponse))]
[JsonSerializable(typeof(Dashboard.ProgressResponse))]
[JsonSerializable(typeof(QueueListResponse))]
[JsonSerializable(typeof(QueuePauseResponse))]
[JsonSerializable(typeof(BulkResponse))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
