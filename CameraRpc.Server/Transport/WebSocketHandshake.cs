using System.Net;
using System.Text;

namespace CameraRpc.Server.Transport;

/// <summary>
/// The server's half of the WebSocket opening handshake (RFC 6455 section 4.2): checks the client's
/// request and spells the <c>101 Switching Protocols</c> answer.
/// </summary>
/// <remarks>
/// HttpListener has already parsed the request and checked that it asks for an upgrade
/// (<see cref="HttpListenerRequest.IsWebSocketRequest"/>) over HTTP/1.1; what is left is the version
/// and the key. No subprotocol or extension is ever agreed: the server speaks plain JSON-RPC frames.
/// </remarks>
internal static class WebSocketHandshake
{
    /// <summary>The only protocol version there is (RFC 6455 section 4.1).</summary>
    public const string SupportedVersion = "13";

    private const int KeyBytes = 16;
    private const int KeyChars = 24; // base64 of 16 bytes, with its padding

    /// <summary>
    /// Checks the upgrade request. Returns null and the <c>Sec-WebSocket-Accept</c> value when it can be
    /// accepted, or the answer to refuse it with.
    /// </summary>
    public static HandshakeRefusal? Check(HttpListenerRequest request, out string accept)
    {
        accept = string.Empty;
        string? version = request.Headers["Sec-WebSocket-Version"]?.Trim();
        if (string.IsNullOrEmpty(version))
        {
            return new HandshakeRefusal(400, "Bad Request: a WebSocket upgrade needs a protocol version (RFC 6455 section 4.1)", null);
        }

        if (version != SupportedVersion)
        {
            // Section 4.4: say which version we speak, so the client can retry with it.
            return new HandshakeRefusal(426, "Upgrade Required: only WebSocket protocol version 13 is spoken here", SupportedVersion);
        }

        string? key = request.Headers["Sec-WebSocket-Key"]?.Trim();
        Span<byte> decoded = stackalloc byte[KeyBytes + 2];
        if (key is not { Length: KeyChars } || !Convert.TryFromBase64String(key, decoded, out int length) || length != KeyBytes)
        {
            return new HandshakeRefusal(400, "Bad Request: not a valid WebSocket upgrade (RFC 6455 section 4.1)", null);
        }

        accept = ComputeAccept(key);
        return null;
    }

    /// <summary>The <c>Sec-WebSocket-Accept</c> value for a key: base64 of SHA-1 of the key and the protocol's GUID.</summary>
    public static string ComputeAccept(string key)
        => Tools.WebSockets.WebSocketAccept.Compute(key);

    /// <summary>The complete <c>101 Switching Protocols</c> response, headers and blank line.</summary>
    public static byte[] SwitchingProtocols(string accept) => Encoding.ASCII.GetBytes(
        "HTTP/1.1 101 Switching Protocols\r\n" +
        "Connection: Upgrade\r\n" +
        "Upgrade: websocket\r\n" +
        "Sec-WebSocket-Accept: " + accept + "\r\n" +
        "\r\n");
}

/// <summary>
/// Why an upgrade request is refused: the status, a short text for whoever reads it, and for a wrong
/// version the version to offer in <c>Sec-WebSocket-Version</c>.
/// </summary>
internal sealed record HandshakeRefusal(int Status, string Text, string? OfferedVersion);
