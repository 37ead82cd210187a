namespace TaskSystem.AspNetCore;

/// <summary>
/// Who may call endpoints that TaskSystem maps into an app. Closed by default outside Development: without an
/// <see cref="AuthorizationPolicy"/>, they answer local requests only (from the machine itself), as Hangfire's
/// dashboard does, until the app says how to protect them.
/// </summary>
public class TaskSystemEndpointOptions
{
    /// <summary>
    /// The name of an ASP.NET Core authorization policy every endpoint requires (the app's own authentication and
    /// roles decide). Default: none.
    /// </summary>
    public string? AuthorizationPolicy { get; set; }

    /// <summary>
    /// Refuse requests that do not come from the machine itself (403). Default: true outside the Development
    /// environment when no <see cref="AuthorizationPolicy"/> is set; false otherwise. Set it to false to leave access
    /// to the app's own rules (a fallback authorization policy, a gateway that authenticates).
    /// </summary>
    public bool? LocalRequestsOnly { get; set; }
}

/// <summary>Options of <c>MapTaskSystemApi</c>.</summary>
public sealed class TaskSystemApiOptions : TaskSystemEndpointOptions
{
    /// <summary>
    /// The task type of a <c>POST</c> body without a <c>type</c> field: the whole body is then its payload (the
    /// seed's <c>curl -d '{"name": "Jean"}'</c>). Default: none, and such a body is a 400 that asks for a type.
    /// </summary>
    public string? DefaultType { get; set; }
}

/// <summary>Options of <c>MapTaskSystemDashboard</c>.</summary>
public sealed class TaskSystemDashboardOptions : TaskSystemEndpointOptions
{
    /// <summary>Where the app mapped <c>MapTaskSystemApi</c>: the dashboard lists, stops and retries tasks through it. Default <c>/tasks</c>.</summary>
    public string ApiPath { get; set; } = "/tasks";

    /// <summary>
    /// Serve the page and its scripts to anyone, while the data endpoints keep the rules above. For apps whose
    /// callers authenticate with a header the page asks for (the server's API keys); the files hold no data.
    /// Default false: the page is protected like the data.
    /// </summary>
    public bool AssetsAllowAnonymous { get; set; }
}
