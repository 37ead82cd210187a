using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace TaskSystem.Handlers.Http;

/// <summary>
/// The built-in <c>http</c> task type: an attempt is one HTTP request to the task's URL. It is an ordinary handler:
/// its cancellation token aborts the request in flight (stop, the attempt's timeout, shutdown), and retries are the
/// engine's: a 2xx succeeds; a network error, a timeout, 408, 429 or 5xx fails the attempt (a <c>Retry-After</c> on
/// 429 or 503 says when the next one runs); any other answer fails the task at once, since sending the same request
/// again would get the same answer. The HTTP client has no retry of its own.
/// </summary>
internal sealed class HttpTargetHandler(
    HttpTargetSettings settings,
    IHttpClientFactory clients,
    TimeProvider time,
    ILogger<HttpTargetHandler> logger) : ITaskHandler, ITaskPayloadValidator
{
    /// <summary>The task type.</summary>
    public const string TaskType = "http";

    /// <summary>The name of the <see cref="IHttpClientFactory"/> client the handler uses.</summary>
    public const string ClientName = "TaskSystem.HttpTargets";

    public const string TaskIdHeader = "TaskSystem-Task-Id";
    public const string AttemptHeader = "TaskSystem-Attempt";
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    public const int MaxRedirects = 5;

    public string? Validate(JsonElement payload)
    {
        HttpTargetRequest.Parse(payload, settings.AllowList, settings.MaxRequestBodyBytes, out var error);
        return error;
    }

    public async ValueTask<JsonElement?> HandleAsync(TaskContext context, CancellationToken cancellationToken)
    {
        // Checked again: the allowed targets may have changed since the task was enqueued.
        var request = HttpTargetRequest.Parse(context.Payload, settings.AllowList, settings.MaxRequestBodyBytes, out var error)
            ?? throw new TaskFailedException(error!, retry: false);

        using var timeout = new CancellationTokenSource(request.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var client = clients.CreateClient(ClientName);
        var started = time.GetTimestamp();
        var hop = new Hop(request.Url, request.Method, request.Body, request.Headers);
        try
        {
            for (var redirects = 0; ; redirects++)
            {
                using var message = Build(context, request, hop);
                using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
                if (IsRedirect(response.StatusCode) && response.Headers.Location is { } location)
                {
                    hop = Redirect(context, hop, response.StatusCode, location, redirects);
                    continue;
                }

                var answer = await HttpTargetResponse.ReadAsync(response, linked.Token).ConfigureAwait(false);
                var elapsed = time.GetElapsedTime(started);
                HttpTargetLog.Answered(logger, context.Id, context.Attempt, hop.Url.AbsoluteUri, answer.Status, elapsed.TotalMilliseconds);
                return answer.Status is >= 200 and <= 299
                    ? answer.ToResult(elapsed, hop.Url == request.Url ? null : hop.Url, settings.MaxResultBytes, settings.MaxJsonDepth)
                    : throw Failure(hop, response, answer);
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TaskFailedException(string.Create(CultureInfo.InvariantCulture,
                $"{hop.Method} {hop.Url.AbsoluteUri} did not answer within {request.Timeout.TotalSeconds:0.###} s (payload.timeoutSeconds)."));
        }
        catch (HttpRequestException exception) when (Refusal(exception) is { } refused)
        {
            HttpTargetLog.AddressRefused(logger, context.Id, hop.Url.AbsoluteUri, refused.Message);
            throw new TaskFailedException($"{hop.Method} {hop.Url.AbsoluteUri} was not sent: {refused.Message}", retry: false);
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
        {
            // A network error: the target may be back for the next attempt.
            throw new TaskFailedException($"{hop.Method} {hop.Url.AbsoluteUri} failed: {Describe(exception)}", exception);
        }
    }

    /// <summary>One request of the chain: the first, or one a redirect asked for.</summary>
    private sealed record Hop(Uri Url, string Method, byte[]? Body, IReadOnlyList<KeyValuePair<string, string>> Headers);

    private HttpRequestMessage Build(TaskContext context, HttpTargetRequest request, Hop hop)
    {
        var message = new HttpRequestMessage(new HttpMethod(hop.Method), hop.Url);
        if (hop.Body is not null)
        {
            message.Content = new ByteArrayContent(hop.Body);
            message.Content.Headers.ContentType = request.BodyIsJson
                ? new MediaTypeHeaderValue("application/json")
                : new MediaTypeHeaderValue("text/plain") { CharSet = "utf-8" };
        }

        var userAgent = false;
        foreach (var (name, value) in hop.Headers)
        {
            if (HttpTargetRequest.ContentHeaders.Contains(name))
            {
                message.Content!.Headers.Remove(name);
                message.Content.Headers.TryAddWithoutValidation(name, value);
            }
            else
            {
                message.Headers.TryAddWithoutValidation(name, value);
                userAgent |= name.Equals("User-Agent", StringComparison.OrdinalIgnoreCase);
            }
        }

        var id = context.Id.ToString(CultureInfo.InvariantCulture);
        message.Headers.TryAddWithoutValidation(TaskIdHeader, id);
        message.Headers.TryAddWithoutValidation(AttemptHeader, context.Attempt.ToString(CultureInfo.InvariantCulture));
        message.Headers.TryAddWithoutValidation(IdempotencyKeyHeader, id);
        if (!userAgent)
        {
            message.Headers.TryAddWithoutValidation("User-Agent", "TaskSystem");
        }

        if (settings.Signer.IsEnabled)
        {
            var (timestamp, signature) = settings.Signer.Sign(time.GetUtcNow(), hop.Body);
            message.Headers.TryAddWithoutValidation(HttpTargetSigner.TimestampHeader, timestamp);
            message.Headers.TryAddWithoutValidation(HttpTargetSigner.SignatureHeader, signature);
        }

        return message;
    }

    /// <summary>
    /// The next request after a redirect, if its URL is itself allowed. 303 (and 301 or 302 after a POST, as browsers
    /// do) turn the request into a GET without a body; 307 and 308 repeat it as it was. The caller's headers (which may
    /// carry credentials) go only to the same origin; the body's own headers go with the body.
    /// </summary>
    private Hop Redirect(TaskContext context, Hop hop, HttpStatusCode status, Uri location, int redirects)
    {
        var next = location.IsAbsoluteUri ? location : new Uri(hop.Url, location);
        var code = (int)status;
        if (redirects >= MaxRedirects)
        {
            throw new TaskFailedException($"{hop.Method} {hop.Url.AbsoluteUri} redirected more than {MaxRedirects} times in a row.", retry: false);
        }

        if (settings.AllowList.Check("the redirect", next) is { } refusal)
        {
            HttpTargetLog.RedirectRefused(logger, context.Id, hop.Url.AbsoluteUri, code, refusal);
            throw new TaskFailedException($"{hop.Method} {hop.Url.AbsoluteUri} redirected ({code}) to {next.AbsoluteUri}, which was not followed: {refusal}", retry: false);
        }

        var keepsBody = code is 307 or 308 || (code is 301 or 302 && hop.Method != "POST");
        var method = keepsBody || hop.Method == "HEAD" ? hop.Method : "GET";
        var body = keepsBody ? hop.Body : null;
        var sameOrigin = Uri.Compare(hop.Url, next, UriComponents.SchemeAndServer, UriFormat.UriEscaped, StringComparison.OrdinalIgnoreCase) == 0;
        var headers = hop.Headers
            .Where(h => HttpTargetRequest.ContentHeaders.Contains(h.Key) ? body is not null : sameOrigin)
            .ToList();
        return new Hop(next, method, body, headers);
    }

    /// <summary>The failure for a non-2xx answer: retried when the target may answer differently later, else final.</summary>
    private TaskFailedException Failure(Hop hop, HttpResponseMessage response, HttpTargetResponse answer)
    {
        var status = answer.Status;
        var body = answer.TextStart();
        var message = $"{hop.Method} {hop.Url.AbsoluteUri} answered {status} {answer.Reason}".TrimEnd() + (body.Length > 0 ? ": " + body : "");
        var retryable = status is 408 or 429 or >= 500;
        if (!retryable)
        {
            return new TaskFailedException(message, retry: false);
        }

        var retryAfter = status is 429 or 503 ? RetryAfterHeader.Delay(response.Headers.RetryAfter, time.GetUtcNow()) : null;
        return new TaskFailedException(message) { RetryAfter = retryAfter };
    }

    private static bool IsRedirect(HttpStatusCode status) => (int)status is 301 or 302 or 303 or 307 or 308;

    private static TargetAddressRefusedException? Refusal(Exception exception)
    {
        for (var inner = exception.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is TargetAddressRefusedException refused)
            {
                return refused;
            }
        }

        return null;
    }

    private static string Describe(Exception exception) =>
        exception.InnerException is { } inner && !exception.Message.Contains(inner.Message, StringComparison.Ordinal)
            ? $"{exception.Message} ({inner.Message})"
            : exception.Message;
}
