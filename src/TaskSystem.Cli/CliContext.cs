using System.CommandLine;
using System.Net.Http.Headers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Spectre.Console;
using TaskSystem.Client;

namespace TaskSystem.Cli;

/// <summary>
/// What every command shares: the server's address and key (options, else environment), the client, the output (tables
/// or JSON), and one place that turns failures into a message and an exit code.
/// </summary>
internal sealed class CliContext
{
    public const string UrlVariable = "TASKSYSTEM_URL";
    public const string ApiKeyVariable = "TASKSYSTEM_API_KEY";
    public const string DefaultUrl = "http://localhost:4000";

    /// <summary>Web defaults (camelCase), without the HTML-safe escaping of <c>+</c> and quotes: the output goes to scripts, not pages.</summary>
    private static readonly JsonSerializerOptions Compact = new(JsonSerializerOptions.Web) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly JsonSerializerOptions Indented = new(Compact) { WriteIndented = true };
    private readonly TextWriter _error;

    private CliContext(ParseResult parse, TextWriter output, TextWriter error)
    {
        Parse = parse;
        Output = output;
        _error = error;
        IsJson = parse.GetValue(CliApp.Json);
        Url = parse.GetValue(CliApp.Url) ?? NonEmpty(Environment.GetEnvironmentVariable(UrlVariable)) ?? DefaultUrl;
        Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
    }

    public ParseResult Parse { get; }

    public TextWriter Output { get; }

    /// <summary>Tables and styled text for people.</summary>
    public IAnsiConsole Console { get; }

    public bool IsJson { get; }

    public string Url { get; }

    /// <summary>Runs <paramref name="body"/> with a client; a failure becomes a message on stderr and its exit code.</summary>
    public static Func<ParseResult, CancellationToken, Task<int>> Action(
        TextWriter output, TextWriter error, Func<CliContext, TaskSystemClient, CancellationToken, Task<int>> body) =>
        async (parse, cancellationToken) =>
        {
            var context = new CliContext(parse, output, error);
            if (!Uri.TryCreate(context.Url, UriKind.Absolute, out var address) || address.Scheme is not ("http" or "https"))
            {
                return await context.FailAsync(ExitCodes.Usage, $"'{context.Url}' is not an http:// or https:// address (--url or {UrlVariable}).");
            }

            using var http = new HttpClient { BaseAddress = address.AbsoluteUri.EndsWith('/') ? address : new Uri(address.AbsoluteUri + "/") };
            var key = parse.GetValue(CliApp.ApiKey) ?? NonEmpty(Environment.GetEnvironmentVariable(ApiKeyVariable));
            if (key is not null)
            {
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            }

            try
            {
                return await body(context, new TaskSystemClient(http), cancellationToken);
            }
            catch (TaskSystemApiException problem) when (problem.StatusCode != default)
            {
                return await context.ProblemAsync(problem);
            }
            catch (TaskSystemApiException other)
            {
                return await context.FailAsync(ExitCodes.Error, other.Message);
            }
            catch (HttpRequestException unreachable) when (unreachable.StatusCode is null)
            {
                return await context.FailAsync(ExitCodes.Unreachable, $"cannot reach the server at {context.Url}: {unreachable.Message}");
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return await context.FailAsync(ExitCodes.Unreachable, $"the server at {context.Url} did not answer in time.");
            }
            catch (JsonException notJson)
            {
                return await context.FailAsync(ExitCodes.Error, $"the server's answer was not understood: {notJson.Message}");
            }
        };

    /// <summary>Writes <paramref name="value"/> as indented JSON on stdout.</summary>
    public Task WriteJsonAsync<T>(T value) => Output.WriteLineAsync(JsonSerializer.Serialize(value, Indented));

    /// <summary>Writes <paramref name="value"/> as one line of JSON on stdout (a stream of them is NDJSON).</summary>
    public async Task WriteJsonLineAsync<T>(T value)
    {
        await Output.WriteLineAsync(JsonSerializer.Serialize(value, Compact));
        await Output.FlushAsync();
    }

    public async Task<int> FailAsync(int exitCode, string message)
    {
        await _error.WriteLineAsync("error: " + message);
        return exitCode;
    }

    private async Task<int> ProblemAsync(TaskSystemApiException problem)
    {
        if (IsJson && problem.Problem is { } details)
        {
            await _error.WriteLineAsync(details.GetRawText());
        }
        else
        {
            var field = problem.Field is null ? "" : $" (field: {problem.Field})";
            var retry = problem.RetryAfter is { } after ? $" Try again in {Math.Ceiling(after.TotalSeconds)} s." : "";
            await _error.WriteLineAsync($"error: {(int)problem.StatusCode} {problem.Title ?? problem.StatusCode.ToString()}: {problem.Detail}{field}{retry}");
        }

        return ExitCodes.For(problem);
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
