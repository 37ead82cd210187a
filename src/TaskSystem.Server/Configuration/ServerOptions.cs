namespace TaskSystem.Server.Configuration;

/// <summary>
/// The server's own settings, bound from the same <c>TaskSystem</c> section as the library's and validated at start:
/// who may call the API, and how fast.
/// </summary>
internal sealed class ServerOptions
{
    /// <summary>
    /// The API keys: a caller sends one as <c>Authorization: Bearer KEY</c>. When any is set, every endpoint but the
    /// health probes (and the dashboard's static files) needs one. Default: none.
    /// </summary>
    public string[] ApiKeys { get; set; } = [];

    /// <summary>
    /// Runs without keys on a non-loopback address, on purpose (a private network, a proxy that authenticates).
    /// Default false: such a server refuses to start.
    /// </summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>Requests per second each client (an API key, else an IP address) may make on average. Default 0: no limit.</summary>
    public int RateLimitPerSecond { get; set; }

    /// <summary>Requests a client may make at once above its average. Default 0: one second's worth (<see cref="RateLimitPerSecond"/>).</summary>
    public int RateLimitBurst { get; set; }

    /// <summary>
    /// When keys are set, requests per second each IP address may make without a valid one (none, or a wrong one), on
    /// average, with bursts of twice that; past it they get 429 with <c>Retry-After</c>. Requests with a valid key never
    /// count against it. Default 10; 0 turns it off.
    /// </summary>
    public int AnonymousRateLimitPerSecond { get; set; } = 10;

    /// <summary>The shortest key accepted: a key is a secret, not a password to remember.</summary>
    public const int MinKeyLength = 16;

    public bool KeysRequired => ApiKeys.Length > 0;

    public bool RateLimited => RateLimitPerSecond > 0;

    public int EffectiveBurst => RateLimitBurst > 0 ? RateLimitBurst : RateLimitPerSecond;

    /// <summary>Requests without a valid key are limited: keys are set (without them, no request has one) and the limit is on.</summary>
    public bool AnonymousRateLimited => KeysRequired && AnonymousRateLimitPerSecond > 0;
}
