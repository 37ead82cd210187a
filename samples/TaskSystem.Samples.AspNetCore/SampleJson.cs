using System.Text.Json;
using System.Text.Json.Serialization;
using TaskSystem.Samples.AspNetCore.Reports;

namespace TaskSystem.Samples.AspNetCore;

/// <summary>The app's payload and result types, source-generated: no reflection needed to read or write them.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ReportRequest))]
[JsonSerializable(typeof(ReportResult))]
[JsonSerializable(typeof(ReportAccepted))]
public sealed partial class SampleJson : JsonSerializerContext;
