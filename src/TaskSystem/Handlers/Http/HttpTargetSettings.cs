using Microsoft.Extensions.Options;

namespace TaskSystem.Handlers.Http;

/// <summary>The http task settings in the form the handler uses, built once: the parsed allow list, the signer, the limits.</summary>
internal sealed class HttpTargetSettings(IOptions<HttpTargetOptions> options, IOptions<TaskSystemOptions> taskSystem)
{
    public TargetAllowList AllowList { get; } = new(options.Value.AllowedTargets);

    public HttpTargetSigner Signer { get; } = new(options.Value.SigningKeys);

    public int MaxRequestBodyBytes { get; } = options.Value.MaxRequestBodyBytes;

    /// <summary>A result is stored like a payload, so it has the payload's limits.</summary>
    public int MaxResultBytes { get; } = taskSystem.Value.MaxPayloadBytes;

    public int MaxJsonDepth { get; } = taskSystem.Value.MaxJsonDepth;
}
