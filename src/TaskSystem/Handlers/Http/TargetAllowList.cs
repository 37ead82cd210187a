namespace TaskSystem.Handlers.Http;

/// <summary>
/// The URL prefixes http tasks may call (<c>TaskSystem:Http:AllowedTargets</c>). A target matches a prefix when its
/// scheme, host and port are the same and its path starts with the prefix's path at a segment boundary: the prefix
/// <c>https://api.example.com/hooks</c> allows <c>/hooks</c> and <c>/hooks/a</c>, not <c>/hooksmith</c>. Hosts match
/// exactly (no wildcards) and paths case-sensitively, after the URL parser has removed <c>.</c> and <c>..</c> segments.
/// </summary>
internal sealed class TargetAllowList
{
    private readonly TargetPrefix[] _prefixes;

    public TargetAllowList(IEnumerable<string> prefixes) =>
        _prefixes = [.. prefixes.Select(p => TargetPrefix.Parse(p, out var prefix) is null ? prefix : null).OfType<TargetPrefix>()];

    public bool IsEmpty => _prefixes.Length == 0;

    /// <summary>Why <paramref name="url"/> may not be called, or null when it may.</summary>
    /// <param name="what">How the message names the URL (<c>payload.url</c>, or "the redirect").</param>
    /// <param name="url">The URL to call.</param>
    public string? Check(string what, Uri url)
    {
        if (IsEmpty)
        {
            return $"http tasks are off on this server: set {HttpTargetOptions.SectionName}:AllowedTargets to the URL prefixes they may call.";
        }

        if (TargetPrefix.CheckShape(what, url) is { } shape)
        {
            return shape;
        }

        return _prefixes.Any(p => p.Matches(url))
            ? null
            : $"{what} {url.AbsoluteUri} is not under any of {HttpTargetOptions.SectionName}:AllowedTargets ({string.Join(", ", _prefixes.Select(p => p.Text))}).";
    }
}

/// <summary>One allowed prefix, normalized by the URL parser.</summary>
internal sealed record TargetPrefix(string Text, string Scheme, string Host, int Port, string Path)
{
    /// <summary>Parses an allowed prefix; returns what is wrong with it, or null.</summary>
    public static string? Parse(string value, out TargetPrefix? prefix)
    {
        prefix = null;
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return $"must be an absolute http or https URL (got '{value}').";
        }

        if (CheckShape("", uri) is { } error)
        {
            return error.TrimStart();
        }

        if (uri.Query.Length > 0)
        {
            return $"must not have a query (got '{value}').";
        }

        prefix = new TargetPrefix(uri.AbsoluteUri, uri.Scheme, uri.IdnHost, uri.Port, uri.AbsolutePath);
        return null;
    }

    /// <summary>
    /// What makes a URL unfit whatever the allowed prefixes: no http(s), credentials in it, a fragment, or escaped
    /// dots, slashes or backslashes in its path (a receiver that decodes them could see a path outside the prefix).
    /// </summary>
    public static string? CheckShape(string what, Uri url)
    {
        if (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https"))
        {
            return $"{what} must be an absolute http or https URL (got '{url.OriginalString}').";
        }

        if (url.UserInfo.Length > 0)
        {
            return $"{what} must not carry a user name or password: send credentials in payload.headers.";
        }

        if (url.Fragment.Length > 0)
        {
            return $"{what} must not have a fragment (#...): it is never sent.";
        }

        var path = url.AbsolutePath;
        if (path.Contains('\\', StringComparison.Ordinal)
            || path.Contains("%2e", StringComparison.OrdinalIgnoreCase)
            || path.Contains("%2f", StringComparison.OrdinalIgnoreCase)
            || path.Contains("%5c", StringComparison.OrdinalIgnoreCase))
        {
            return $"{what} must not have escaped dots, slashes or backslashes in its path (got '{path}').";
        }

        return null;
    }

    public bool Matches(Uri url)
    {
        if (!string.Equals(url.Scheme, Scheme, StringComparison.Ordinal)
            || !string.Equals(url.IdnHost, Host, StringComparison.OrdinalIgnoreCase)
            || url.Port != Port)
        {
            return false;
        }

        var path = url.AbsolutePath;
        return Path.EndsWith('/')
            ? path.StartsWith(Path, StringComparison.Ordinal)
            : path == Path || path.StartsWith(Path + "/", StringComparison.Ordinal);
    }
}
