using System.Net;

namespace CameraRpc.Server.Endpoints;

/// <summary>
/// The browser console (CONTRACT section 9): the page at <c>GET /</c> and its stylesheet and script
/// under <c>/console/</c>, all three embedded in the executable. The page itself is public (it holds
/// nothing secret); what it calls is guarded by the WebSocket endpoint's token and Origin rules.
/// </summary>
/// <remarks>
/// The router sends it <c>GET</c> and <c>HEAD</c> of <see cref="Serves"/>'s paths. Every answer carries
/// the headers section 9 names: a Content-Security-Policy that lets the page load only its own script
/// and style (no inline code anywhere) and talk only to this origin, no framing, no sniffing and no
/// referrer. <c>Cache-Control: no-cache</c> with a strong <c>ETag</c>: a browser revalidates on each
/// load and gets a 304 until the executable is replaced by one with another page. Thread-safe.
/// </remarks>
/// <param name="rpcPath">The JSON-RPC path (<c>--path</c>) the page connects to.</param>
internal sealed partial class ConsoleEndpoint(string rpcPath) : IHttpEndpoint
{
    public const string PagePath = "/";
    public const string StylePath = "/console/console.css";
    public const string ScriptPath = "/console/console.js";

    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    /// <summary>True for the paths this endpoint answers.</summary>
    public static bool Serves(string path) => path is PagePath or StylePath or ScriptPath;

    public Task HandleAsync(HttpListenerContext context)
    {
        ConsoleAsset asset = context.Request.Url?.AbsolutePath switch
        {
            StylePath => Style,
            ScriptPath => Script,
            _ => Page,
        };

        HttpListenerResponse response = context.Response;
        response.AddHeader("Content-Security-Policy", ContentSecurityPolicy);
        response.AddHeader("X-Content-Type-Options", "nosniff");
        response.AddHeader("X-Frame-Options", "DENY");
        response.AddHeader("Referrer-Policy", "no-referrer");
        response.AddHeader("Cache-Control", "no-cache");
        response.AddHeader("ETag", asset.ETag);

        return IsCurrent(context.Request.Headers["If-None-Match"], asset.ETag)
            ? HttpResponses.WriteAsync(context, 304, null, ReadOnlyMemory<byte>.Empty)
            : HttpResponses.WriteAsync(context, 200, asset.ContentType, asset.Body);
    }

    /// <summary>True when an <c>If-None-Match</c> list names <paramref name="etag"/> (weakly, as RFC 9110 section 13.1.2 compares) or is <c>*</c>.</summary>
    internal static bool IsCurrent(string? ifNoneMatch, string etag)
    {
        if (string.IsNullOrEmpty(ifNoneMatch))
        {
            return false;
        }

        foreach (string candidate in ifNoneMatch.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            string tag = candidate.StartsWith("W/", StringComparison.Ordinal) ? candidate[2..] : candidate;
            if (tag == "*" || tag == etag)
            {
                return true;
            }
        }

        return false;
    }
}
