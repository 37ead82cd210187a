using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace TaskSystem.Samples.Embedded;

/// <summary>The payload of a send-welcome-email task.</summary>
internal sealed record WelcomeEmail(string To, string Name);

/// <summary>
/// A handler: resolved from a fresh DI scope for each attempt (so it may take scoped services such as a DbContext),
/// given the payload and a token that fires when the task is stopped, times out, or the app shuts down.
/// Throwing fails the attempt; it is retried with backoff while attempts remain.
/// </summary>
internal sealed partial class SendWelcomeEmail(ILogger<SendWelcomeEmail> logger) : ITaskHandler
{
    public async ValueTask<JsonElement?> HandleAsync(TaskContext context, CancellationToken cancellationToken)
    {
        var email = context.GetPayload<WelcomeEmail>() ?? throw new TaskFailedException("the payload is not a welcome email");
        LogSending(logger, email.To, context.Attempt);
        await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken); // Stands in for the SMTP call.
        return JsonSerializer.SerializeToElement(new { sentTo = email.To });
    }

    [LoggerMessage(1, LogLevel.Information, "Sending a welcome email to {To} (attempt {Attempt})")]
    private static partial void LogSending(ILogger logger, string to, int attempt);
}
