namespace TaskSystem;

/// <summary>
/// Settings of the built-in <c>http</c> task type, read from <c>TaskSystem:Http</c> and checked at start. Calling
/// out is off until <see cref="AllowedTargets"/> names at least one URL prefix.
/// </summary>
public sealed class HttpTargetOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "TaskSystem:Http";

    /// <summary>
    /// The URL prefixes tasks may call, such as <c>https://api.example.com/hooks/</c>: a target must have the same
    /// scheme, host and port, and a path that starts with the prefix's path. Empty (the default): every http task is
    /// refused at enqueue.
    /// </summary>
    public IList<string> AllowedTargets { get; } = [];

    /// <summary>
    /// Let targets resolve to loopback, private, link-local, multicast or unspecified addresses (a receiver on the same
    /// machine or network). Default false: such connections are refused, whatever name led to them.
    /// </summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>
    /// Keys that sign every request (HMAC-SHA256 over the timestamp and the body): each one adds its signature, under
    /// its id, to the <c>TaskSystem-Signature</c> header, so a key is rotated by adding the new one, moving receivers
    /// to it, then removing the old one. Default: none (requests are not signed).
    /// </summary>
    public IList<HttpSigningKey> SigningKeys { get; } = [];

    /// <summary>The most connections open at once to one target (scheme, host and port). Default 32.</summary>
    public int MaxConnectionsPerHost { get; set; } = 32;

    /// <summary>The largest request body a task may carry, in bytes. Default 262144 (256 KiB).</summary>
    public int MaxRequestBodyBytes { get; set; } = 256 * 1024;
}

/// <summary>A key that signs http task requests.</summary>
public sealed class HttpSigningKey
{
    /// <summary>The key's id, sent beside its signature so a receiver knows which secret to check with: 1 to 64 of letters, digits and <c>_ - .</c>.</summary>
    public string Id { get; set; } = "";

    /// <summary>The shared secret (its UTF-8 bytes are the HMAC key): at least 32 characters, e.g. <c>openssl rand -base64 32</c>.</summary>
    public string Secret { get; set; } = "";
}
