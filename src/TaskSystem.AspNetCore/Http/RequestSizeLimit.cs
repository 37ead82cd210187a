using Microsoft.AspNetCore.Http.Metadata;

namespace TaskSystem.AspNetCore.Http;

/// <summary>
/// The largest body an endpoint accepts, as metadata Kestrel reads before the body is read: our endpoints take
/// payloads up to <c>TaskSystem:MaxPayloadBytes</c>, whatever the server's own default limit.
/// </summary>
internal sealed record RequestSizeLimit(long? MaxRequestBodySize) : IRequestSizeLimitMetadata;
