using System.Globalization;
using System.Net;
using System.Text;

namespace CameraRpc.Server.Endpoints;

internal sealed partial class ConsoleEndpoint
{
    private const string PathPlaceholder = "{{RPC_PATH}}";

    // Loaded on first request, then kept: a server whose console is never opened never reads them
    // (the resources stay in the executable's untouched pages, out of RSS). Two first requests racing
    // may both load; they build the same bytes and one wins, which is harmless.
    private ConsoleAsset? _style;
    private ConsoleAsset? _script;
    private ConsoleAsset? _page;

    private ConsoleAsset Style => _style ??= Load("console.css", "text/css; charset=utf-8");

    private ConsoleAsset Script => _script ??= Load("console.js", "text/javascript; charset=utf-8");

    /// <summary>The page with <c>--path</c> filled in, HTML-escaped.</summary>
    private ConsoleAsset Page => _page ??= new ConsoleAsset(
        Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(ReadResource("index.html"))
            .Replace(PathPlaceholder, WebUtility.HtmlEncode(rpcPath), StringComparison.Ordinal)),
        "text/html; charset=utf-8");

    private static ConsoleAsset Load(string name, string contentType) => new(ReadResource(name), contentType);

    private static byte[] ReadResource(string name)
    {
        // LogicalName in the csproj fixes the names, whatever the folder or root namespace.
        using Stream stream = typeof(ConsoleEndpoint).Assembly.GetManifestResourceStream("Console/" + name)
            ?? throw new InvalidOperationException($"The console resource 'Console/{name}' is not embedded in the executable");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>
    /// FNV-1a, 64 bits: enough to tell two versions of a file apart, which is all an ETag needs. (SHA-256
    /// would load OpenSSL into the process for it: about 4 MiB of RSS, against the 10 MiB budget.)
    /// </summary>
    private static ulong Fingerprint(ReadOnlySpan<byte> bytes)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in bytes)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
    }

    /// <summary>One served file: its bytes, content type and strong ETag (from a fingerprint of the bytes).</summary>
    private sealed class ConsoleAsset(byte[] body, string contentType)
    {
        public byte[] Body { get; } = body;

        public string ContentType { get; } = contentType;

        public string ETag { get; } = "\"" + Fingerprint(body).ToString("x16", CultureInfo.InvariantCulture) + "\"";
    }
}
