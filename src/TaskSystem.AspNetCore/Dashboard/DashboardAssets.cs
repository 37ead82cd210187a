using System.Collections.Frozen;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Net.Http.Headers;

namespace TaskSystem.AspNetCore.Dashboard;

/// <summary>
/// The dashboard's page and files, read once from this assembly's resources (no files on disk to ship or find).
/// Each answer carries an ETag and <c>no-cache</c>: no build step means no fingerprinted names, so browsers
/// revalidate and an upgrade is seen at once; and a policy that forbids any script or style not of these files,
/// because the page renders what clients put in payloads and errors (as text nodes only).
/// </summary>
internal sealed class DashboardAssets
{
    /// <summary>Marks the page's placeholder for where the task API is.</summary>
    public const string TasksApiPlaceholder = "{{tasks-api}}";

    private const string ResourcePrefix = "wwwroot/";

    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private static readonly Lazy<DashboardAssets> Embedded = new(Load);

    private readonly FrozenDictionary<string, Asset> _files;
    private readonly string _page;

    private DashboardAssets(FrozenDictionary<string, Asset> files, string page)
    {
        _files = files;
        _page = page;
    }

    public static DashboardAssets Instance => Embedded.Value;

    /// <summary>The files' paths under <c>dashboard/</c>.</summary>
    public IEnumerable<string> Paths => _files.Keys;

    /// <summary>Answers <c>GET dashboard/{path}</c> for one of <see cref="Paths"/>.</summary>
    public IResult File(string path) => new AssetResult(_files[path]);

    /// <summary>The page, with the task API's URL filled in (it may differ per app and path base).</summary>
    public IResult Page(string tasksApi)
    {
        var html = _page.Replace(TasksApiPlaceholder, WebUtility.HtmlEncode(tasksApi), StringComparison.Ordinal);
        return new AssetResult(Asset.Create("text/html; charset=utf-8", Encoding.UTF8.GetBytes(html)));
    }

    private static DashboardAssets Load()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        var types = new FileExtensionContentTypeProvider();
        var files = new Dictionary<string, Asset>(StringComparer.Ordinal);
        string? page = null;
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            var path = name[ResourcePrefix.Length..].Replace('\\', '/');
            if (path == "index.html")
            {
                page = Encoding.UTF8.GetString(memory.ToArray());
                continue;
            }

            const string folder = "dashboard/";
            if (path.StartsWith(folder, StringComparison.Ordinal))
            {
                var type = types.TryGetContentType(path, out var known) ? known : "application/octet-stream";
                if (type.StartsWith("text/", StringComparison.Ordinal) || type.EndsWith("javascript", StringComparison.Ordinal))
                {
                    type += "; charset=utf-8";
                }

                files[path[folder.Length..]] = Asset.Create(type, memory.ToArray());
            }
        }

        return new DashboardAssets(files.ToFrozenDictionary(StringComparer.Ordinal), page ?? throw new InvalidOperationException("The dashboard's page is missing from the assembly."));
    }

    private sealed record Asset(string ContentType, byte[] Content, EntityTagHeaderValue ETag)
    {
        public static Asset Create(string contentType, byte[] content) =>
            new(contentType, content, new EntityTagHeaderValue($"\"{Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 12))}\""));
    }

    private sealed class AssetResult(Asset asset) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            var headers = response.Headers;
            headers.CacheControl = "no-cache";
            headers.ETag = asset.ETag.ToString();
            headers.XContentTypeOptions = "nosniff";
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers["Referrer-Policy"] = "no-referrer";
            var ifNoneMatch = httpContext.Request.GetTypedHeaders().IfNoneMatch;
            if (ifNoneMatch.Any(tag => tag.Compare(asset.ETag, useStrongComparison: false) || tag.Equals(EntityTagHeaderValue.Any)))
            {
                response.StatusCode = StatusCodes.Status304NotModified;
                return;
            }

            response.ContentType = asset.ContentType;
            response.ContentLength = asset.Content.Length;
            if (!HttpMethods.IsHead(httpContext.Request.Method))
            {
                await response.Body.WriteAsync(asset.Content, httpContext.RequestAborted);
            }
        }
    }
}
