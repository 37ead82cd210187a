using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace TaskSystem.Handlers;

/// <summary>
/// How payloads and results become objects and back: web defaults (camelCase), the app's source-generated contexts
/// first (<see cref="TaskSystemBuilder.AddJsonTypeInfoResolver"/>), then reflection when the app allows it. A trimmed
/// or native AOT app turns reflection off, and then every type it reads or writes must be in one of its contexts:
/// a type that is not fails with the serializer's own message, naming it.
/// </summary>
internal sealed class PayloadJson
{
    public PayloadJson(IEnumerable<PayloadJsonResolver> resolvers)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        foreach (var resolver in resolvers)
        {
            options.TypeInfoResolverChain.Add(resolver.Resolver);
        }

        if (JsonSerializer.IsReflectionEnabledByDefault)
        {
            options.TypeInfoResolverChain.Add(ReflectionResolver());
        }

        options.MakeReadOnly();
        Options = options;
    }

    /// <summary>With no contexts of the app's: what a host that registered none gets.</summary>
    public static PayloadJson Default { get; } = new([]);

    public JsonSerializerOptions Options { get; }

    /// <summary>The metadata of <typeparamref name="T"/> from the chain; throws when no resolver knows it.</summary>
    public JsonTypeInfo<T> TypeInfo<T>() => (JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T));

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Used only while reflection-based serialization is enabled; trimmed and AOT apps disable it.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Used only while reflection-based serialization is enabled; trimmed and AOT apps disable it.")]
    private static DefaultJsonTypeInfoResolver ReflectionResolver() => new();
}

/// <summary>A resolver the app registered for its payload and result types.</summary>
internal sealed record PayloadJsonResolver(IJsonTypeInfoResolver Resolver);
