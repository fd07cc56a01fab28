using System.Net.WebSockets;

namespace CameraRpc.Server.Tools.WebSockets;

/// <summary>
/// Which messages the tools compress once permessage-deflate is negotiated: those of 256 bytes or more,
/// the server's own rule for its answers. A request of a few dozen bytes gains nothing on the wire, and
/// compressing it is the client's dearest step: under <c>client_no_context_takeover</c> (which the server
/// asks for) every compressed message starts from a reset deflater. Measured in BENCHMARKS.md
/// ("permessage-deflate"): compressing every <c>ping</c> held <c>bench --compression</c> at 0.58 of the
/// uncompressed rate; skipping the small ones restores it.
/// </summary>
internal static class OutgoingCompression
{
    /// <summary>The smallest message that is compressed.</summary>
    public const int FromBytes = 256;

    /// <summary>The flags that end a message of <paramref name="length"/> bytes.</summary>
    public static WebSocketMessageFlags EndOfMessage(int length) =>
        length < FromBytes
            ? WebSocketMessageFlags.EndOfMessage | WebSocketMessageFlags.DisableCompression
            : WebSocketMessageFlags.EndOfMessage;
}
