using System.Text.Json.Serialization;

namespace TaskSystem.Storage;

/// <summary>Source-generated JSON for what stores serialize themselves.</summary>
[JsonSerializable(typeof(IReadOnlyList<string>))]
internal sealed partial class StoreJsonContext : JsonSerializerContext;
