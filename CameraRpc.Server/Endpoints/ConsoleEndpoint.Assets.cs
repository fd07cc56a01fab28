using System.Net;
using System.Globalization;
using System.Text;

namespace CameraRpc.Server.Endpoints;

internal static partial class ConsoleEndpoint
{
    private const string PathPlaceholder = "{{RPC_PATH}}";

    // Loaded on first request, then kept: a server whose console is never opened never reads them
    // (the resources stay in the executable's unmapped pages, out of RSS). Two first requests racing
    // may both load; they build the same bytes and one wins, which is harmless.
    private static ConsoleAsset? s_style;
    private static ConsoleAsset? s_script;
    private static ConsoleAsset? s_page;

    private static ConsoleAsset Style => s_style ??= Load("console.css", "text/css; charset=utf-8");

    private static ConsoleAsset Script => s_script ??= Load("console.js", "text/javascript; charset=utf-8");

    /// <summary>The page with <c>--path</c> filled in (a server has one path; in-process tests may host several).</summary>
    private static ConsoleAsset Page(string rpcPath)
    {
        ConsoleAsset? page = Volatile.Read(ref s_page);
        if (page is not null && page.RpcPath == rpcPath)
        {
            return page;
        }

        string template = Encoding.UTF8.GetString(ReadResource("index.html"));
        byte[] body = Encoding.UTF8.GetBytes(template.Replace(PathPlaceholder, WebUtility.HtmlEncode(rpcPath), StringComparison.Ordinal));
        page = new ConsoleAsset(body, "text/html; charset=utf-8", rpcPath);
        Volatile.Write(ref s_page, page);
        return page;
    }

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
    private sealed class ConsoleAsset(byte[] body, string contentType, string? rpcPath = null)
    {
        /// <summary>The <c>--path</c> filled into the page; null for the assets that have none.</summary>
        public string? RpcPath { get; } = rpcPath;

        public byte[] Body { get; } = body;

        public string ContentType { get; } = contentType;

        public string ETag { get; } = "\"" + Fingerprint(body).ToString("x16", CultureInfo.InvariantCulture) + "\"";
    }
}
