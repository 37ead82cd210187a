using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace TaskSystem.Server.Tests.Support;

/// <summary>
/// Checks a JSON value against a schema of an OpenAPI 3.1 document, for the subset the generated document uses:
/// <c>$ref</c> to <c>#/components/schemas</c>, <c>type</c> (one or a list), <c>properties</c>, <c>required</c>,
/// <c>additionalProperties</c>, <c>items</c>, <c>oneOf</c>/<c>anyOf</c>/<c>allOf</c>, <c>enum</c>, <c>pattern</c> and
/// the <c>date-time</c> format. A keyword outside the subset fails the check, so the checker cannot pass a document
/// it does not understand.
/// </summary>
public sealed class OpenApiSchemaChecker(JsonElement document)
{
    private static readonly HashSet<string> Understood =
    [
        "$ref", "type", "properties", "required", "additionalProperties", "items", "oneOf", "anyOf", "allOf", "enum",
        "pattern", "format", "description", "title", "default", "example", "examples", "nullable", "readOnly", "writeOnly",
        "minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "deprecated", "externalDocs",
    ];

    /// <summary>Every way <paramref name="value"/> breaks <paramref name="schema"/>, each with its JSON path; empty when it conforms.</summary>
    public IReadOnlyList<string> Check(JsonElement value, JsonElement schema, string path = "$")
    {
        var errors = new List<string>();
        Check(value, schema, path, errors);
        return errors;
    }

    private void Check(JsonElement value, JsonElement schema, string path, List<string> errors)
    {
        if (schema.ValueKind == JsonValueKind.True)
        {
            return;
        }

        foreach (var keyword in schema.EnumerateObject())
        {
            if (!Understood.Contains(keyword.Name))
            {
                errors.Add($"{path}: the checker does not understand the keyword '{keyword.Name}'");
            }
        }

        if (schema.TryGetProperty("$ref", out var reference))
        {
            Check(value, Resolve(reference.GetString()!), path, errors);
        }

        if (schema.TryGetProperty("type", out var type))
        {
            var types = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToList() : [type.GetString()!];
            if (!types.Any(t => IsOfType(value, t)))
            {
                errors.Add($"{path}: {Kind(value)} where the schema wants {string.Join(" or ", types)}");
                return;
            }
        }

        if (schema.TryGetProperty("enum", out var allowed) && !allowed.EnumerateArray().Any(a => JsonElement.DeepEquals(a, value)))
        {
            errors.Add($"{path}: {value.GetRawText()} is not one of {allowed.GetRawText()}");
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            var text = value.GetString()!;
            if (schema.TryGetProperty("pattern", out var pattern) && !Regex.IsMatch(text, pattern.GetString()!, RegexOptions.None, TimeSpan.FromSeconds(1)))
            {
                errors.Add($"{path}: '{text}' does not match {pattern.GetString()}");
            }

            if (schema.TryGetProperty("format", out var format) && format.GetString() == "date-time"
                && !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
            {
                errors.Add($"{path}: '{text}' is not a date-time");
            }
        }

        if (value.ValueKind == JsonValueKind.Object)
        {
            CheckObject(value, schema, path, errors);
        }

        if (value.ValueKind == JsonValueKind.Array && schema.TryGetProperty("items", out var items))
        {
            var index = 0;
            foreach (var item in value.EnumerateArray())
            {
                Check(item, items, $"{path}[{index++}]", errors);
            }
        }

        if (schema.TryGetProperty("allOf", out var allOf))
        {
            foreach (var part in allOf.EnumerateArray())
            {
                Check(value, part, path, errors);
            }
        }

        foreach (var (keyword, exactlyOne) in new[] { ("oneOf", true), ("anyOf", false) })
        {
            if (schema.TryGetProperty(keyword, out var choices))
            {
                var results = choices.EnumerateArray().Select(choice => Check(value, choice, path)).ToList();
                var passed = results.Count(r => r.Count == 0);
                if (exactlyOne ? passed != 1 : passed == 0)
                {
                    errors.Add($"{path}: {passed} of the {keyword} choices match ({string.Join("; ", results.SelectMany(r => r).Take(4))})");
                }
            }
        }
    }

    private void CheckObject(JsonElement value, JsonElement schema, string path, List<string> errors)
    {
        var properties = schema.TryGetProperty("properties", out var declared) ? declared : default;
        if (schema.TryGetProperty("required", out var required))
        {
            foreach (var name in required.EnumerateArray().Select(r => r.GetString()!).Where(name => !value.TryGetProperty(name, out _)))
            {
                errors.Add($"{path}: the required property '{name}' is missing");
            }
        }

        foreach (var property in value.EnumerateObject())
        {
            if (properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(property.Name, out var propertySchema))
            {
                Check(property.Value, propertySchema, $"{path}.{property.Name}", errors);
            }
            else if (schema.TryGetProperty("additionalProperties", out var additional))
            {
                if (additional.ValueKind == JsonValueKind.False)
                {
                    errors.Add($"{path}: the property '{property.Name}' is not in the schema");
                }
                else if (additional.ValueKind == JsonValueKind.Object)
                {
                    Check(property.Value, additional, $"{path}.{property.Name}", errors);
                }
            }
        }
    }

    private JsonElement Resolve(string reference)
    {
        const string Prefix = "#/components/schemas/";
        if (!reference.StartsWith(Prefix, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"The checker resolves only {Prefix} references, not {reference}.");
        }

        return document.GetProperty("components").GetProperty("schemas").GetProperty(reference[Prefix.Length..]);
    }

    private static bool IsOfType(JsonElement value, string type) => type switch
    {
        "null" => value.ValueKind == JsonValueKind.Null,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "string" => value.ValueKind == JsonValueKind.String,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var number) && number == decimal.Truncate(number),
        _ => throw new InvalidOperationException($"Unknown JSON schema type '{type}'."),
    };

    private static string Kind(JsonElement value) => value.ValueKind.ToString().ToLowerInvariant() + " " + Shorten(value.GetRawText());

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..60] + "…";
}
