using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TaskSystem.ExternalWorkers;

namespace TaskSystem.AspNetCore.Http;

/// <summary>
/// The JSON object body of an external worker's request, read strictly: UTF-8 JSON, an object, no field twice, no
/// field the endpoint does not know (a misspelt <c>leaseToken</c> must not pass for a missing one), each of its type.
/// Anything else is a <see cref="TaskValidationException"/> naming the field: a 400 problem, never a 500.
/// </summary>
internal sealed class WorkerBody : IDisposable
{
    private readonly JsonRequestBody? _body;
    private readonly Dictionary<string, JsonElement> _fields;
    private readonly string _prefix;

    private WorkerBody(JsonRequestBody? body, Dictionary<string, JsonElement> fields, string prefix = "")
    {
        _body = body;
        _fields = fields;
        _prefix = prefix;
    }

    /// <summary>Reads the body as the task API does (bounded, UTF-8, no name twice), then checks its fields.</summary>
    /// <exception cref="TaskValidationException">The body or one of its fields is refused; the exception says why.</exception>
    /// <param name="request">The request.</param>
    /// <param name="options">The limits on bodies.</param>
    /// <param name="allowed">The fields the body may have.</param>
    /// <param name="cancellationToken">Ends the read.</param>
    /// <param name="maxBytes">The largest body; one payload's worth when null.</param>
    /// <param name="levels">How deep a result sits: one level down in an object body, as a payload in an enqueue.</param>
    public static async Task<WorkerBody> ReadAsync(
        HttpRequest request, TaskSystemOptions options, string[] allowed, CancellationToken cancellationToken, long? maxBytes = null, int levels = 1)
    {
        var body = await JsonRequestBody.ReadAsync(request, maxBytes ?? TasksApi.MaxBodyBytes(options), options.MaxJsonDepth, levels, cancellationToken);
        try
        {
            if (body.Problem is { } problem)
            {
                throw new TaskValidationException(problem.Detail) { IsTooLarge = problem.Status == StatusCodes.Status413PayloadTooLarge };
            }

            var root = body.Root;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new TaskValidationException(
                    $"The request body must be a JSON object with the fields {string.Join(", ", allowed)} (got {root.ValueKind.ToString().ToLowerInvariant()}).");
            }

            return new WorkerBody(body, Fields(root, allowed, prefix: ""));
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A list of objects, each read as strictly as the body and naming its place in errors (<c>reports[3].id</c>);
    /// required, with 1 to <paramref name="max"/> items.
    /// </summary>
    public IReadOnlyList<WorkerBody> Objects(string name, string[] allowed, int max)
    {
        var field = Qualified(name);
        if (!Present(name, out var value) || value.ValueKind != JsonValueKind.Array || value.GetArrayLength() is 0 || value.GetArrayLength() > max)
        {
            throw new TaskValidationException(field, $"{field} must be a list of 1 to {max} objects with the fields {string.Join(", ", allowed)}.");
        }

        var items = new List<WorkerBody>(value.GetArrayLength());
        foreach (var item in value.EnumerateArray())
        {
            var place = $"{field}[{items.Count}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw new TaskValidationException(place, $"{place} must be an object with the fields {string.Join(", ", allowed)} (got {Shorten(item.GetRawText())}).");
            }

            items.Add(new WorkerBody(null, Fields(item, allowed, place + "."), place + "."));
        }

        return items;
    }

    /// <summary>A whole number that identifies a task; required.</summary>
    public long Id(string name)
    {
        var field = Qualified(name);
        return Present(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var id) && id > 0
            ? id
            : throw new TaskValidationException(field, $"{field} must be the id of a task, a positive integer.");
    }

    /// <summary>Whether the field is there (and not JSON null).</summary>
    public bool Has(string name) => Present(name, out _);

    /// <summary>A string field; null when absent (or JSON null) and not required.</summary>
    public string? String(string name, bool required = false)
    {
        if (!Present(name, out var value))
        {
            return required ? throw new TaskValidationException(Qualified(name), $"{Qualified(name)} is required.") : null;
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw new TaskValidationException(Qualified(name), $"{Qualified(name)} must be a string (got {value.GetRawText()}).");
    }

    /// <summary>A list of strings; null when absent.</summary>
    public IReadOnlyList<string>? Strings(string name, bool required = false)
    {
        if (!Present(name, out var value))
        {
            return required ? throw new TaskValidationException(Qualified(name), $"{Qualified(name)} is required: a list of names.") : null;
        }

        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(item => item.ValueKind != JsonValueKind.String))
        {
            throw new TaskValidationException(Qualified(name), $"{Qualified(name)} must be a list of strings (got {Shorten(value.GetRawText())}).");
        }

        return [.. value.EnumerateArray().Select(item => item.GetString()!)];
    }

    /// <summary>An integer field; null when absent.</summary>
    public int? Integer(string name)
    {
        if (!Present(name, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number)
            ? number
            : throw new TaskValidationException(Qualified(name), $"{Qualified(name)} must be an integer (got {Shorten(value.GetRawText())}).");
    }

    /// <summary>A number of seconds; null when absent. Bounds are the caller's to check.</summary>
    public TimeSpan? Seconds(string name)
    {
        if (!Present(name, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var seconds) && double.IsFinite(seconds) && Math.Abs(seconds) < 1e9
            ? TimeSpan.FromSeconds(seconds)
            : throw new TaskValidationException(Qualified(name), $"{Qualified(name)} must be a number of seconds (got {Shorten(value.GetRawText())}).");
    }

    /// <summary>A boolean field; <paramref name="absent"/> when absent.</summary>
    public bool Boolean(string name, bool absent)
    {
        if (!Present(name, out var value))
        {
            return absent;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new TaskValidationException(Qualified(name), $"{Qualified(name)} must be true or false (got {Shorten(value.GetRawText())})."),
        };
    }

    /// <summary>
    /// Progress: <c>{"percent": 0..100, "message": "..."}</c> (message optional, cut to
    /// <see cref="TaskProgress.MaxMessageLength"/> characters), or a bare percentage; null when absent.
    /// </summary>
    public WorkerProgress? Progress(string name)
    {
        if (!Present(name, out var value))
        {
            return null;
        }

        const string Shape = "must be {\"percent\": a number from 0 to 100, \"message\": a string or null} or a bare percentage";
        if (value.ValueKind == JsonValueKind.Number)
        {
            return new WorkerProgress(Percent(name, value, Shape), null);
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new TaskValidationException(Qualified(name), $"{Qualified(name)} {Shape} (got {Shorten(value.GetRawText())}).");
        }

        double? percent = null;
        string? message = null;
        foreach (var property in value.EnumerateObject())
        {
            switch (property.Name)
            {
                case "percent":
                    percent = Percent($"{name}.percent", property.Value, Shape);
                    break;
                case "message" when property.Value.ValueKind is JsonValueKind.String or JsonValueKind.Null:
                    message = property.Value.GetString();
                    break;
                default:
                    throw new TaskValidationException($"{name}.{property.Name}", $"{name} {Shape} (got {Shorten(value.GetRawText())}).");
            }
        }

        return percent is { } known
            ? new WorkerProgress(known, message)
            : throw new TaskValidationException($"{name}.percent", $"{name} {Shape}: percent is missing.");
    }

    private static double Percent(string field, JsonElement value, string shape) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var percent) && percent >= 0 && percent <= 100
            ? percent
            : throw new TaskValidationException(field, $"{field.Split('.')[0]} {shape} (got {Shorten(value.GetRawText())}).");

    /// <summary>Any JSON value as its text; null when absent or JSON null.</summary>
    public string? RawJson(string name) => Present(name, out var value) ? value.GetRawText() : null;

    /// <summary>The fields of <paramref name="node"/>, each allowed and none twice (the reader refused duplicates).</summary>
    private static Dictionary<string, JsonElement> Fields(JsonElement node, string[] allowed, string prefix)
    {
        var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in node.EnumerateObject())
        {
            if (!allowed.Contains(property.Name, StringComparer.Ordinal))
            {
                throw new TaskValidationException(prefix + property.Name, $"Unknown field '{prefix}{property.Name}'. Allowed: {string.Join(", ", allowed)}.");
            }

            fields.Add(property.Name, property.Value);
        }

        return fields;
    }

    private string Qualified(string name) => _prefix + name;

    private bool Present(string name, out JsonElement value) =>
        _fields.TryGetValue(name, out value) && value.ValueKind != JsonValueKind.Null;

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "…";

    public void Dispose() => _body?.Dispose();
}
